//! Running one training run as several processes, one per device (DESIGN §4): who this
//! process is ([`World`], MPI under a launcher), which samples it reads ([`DataShard`]), and
//! the gradients as one flat buffer in a fixed order for the all-reduce
//! ([`gradient_buffer`]).

pub mod data_shard;
pub mod gradient_buffer;
#[cfg(feature = "mpi")]
mod mpi_comm;
pub mod rank_heartbeat;
pub mod world;

pub use data_shard::DataShard;
pub use world::World;
