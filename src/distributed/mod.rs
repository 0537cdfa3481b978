//! Running one training run as several processes, one per device (DESIGN §4): who this
//! process is ([`World`], MPI under a launcher), which samples it reads ([`DataShard`]), and
//! the gradients as one flat buffer in a fixed order for the all-reduce
//! ([`gradient_buffer`]).

pub mod data_shard;
pub mod gradient_buffer;
#[cfg(feature = "mpi")]
mod mpi_comm;
#[cfg(feature = "cuda")]
pub mod nccl_reduce;
pub mod rank_heartbeat;
pub mod world;

pub use data_shard::DataShard;
pub use world::World;

/// Sums a flat device buffer over all ranks without leaving the device (NCCL on CUDA).
pub trait DeviceSum<B: burn::prelude::Backend>: Send + Sync {
    fn sum_in_place(
        &self,
        flat: burn::prelude::Tensor<B, 1>,
    ) -> anyhow::Result<burn::prelude::Tensor<B, 1>>;
}
