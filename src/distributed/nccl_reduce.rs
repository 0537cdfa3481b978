//! The gradient all-reduce of CUDA ranks on the GPUs themselves, with NCCL (feature `cuda`;
//! several ranks need `mpi` too): NVIDIA's collective library, what torch DDP and Horovod use. The ranks'
//! communicator is bootstrapped as NVIDIA's examples do: rank 0 makes the NCCL unique id and
//! MPI broadcasts it; every rank then joins with `ncclCommInitRank`. cudarc (already in the
//! tree through cubecl-cuda) loads libnccl at run time, so a machine without NCCL still runs
//! (the host MPI path is used, and the log says why).
//!
//! The flat gradient buffer stays on the device: burn-cuda's tensor is resolved to its
//! CubeCL buffer (which materialises the fused graph that computes it), the device is
//! synchronised so the buffer is written, and NCCL sums it in place on the default stream,
//! which is synchronised before the buffer is read again.

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl::cuda::CudaRuntime;
use cudarc::nccl::{result as nccl, sys as nccl_sys};

use super::World;

/// burn-cuda without autodiff: the backend the gradients live on.
type Cuda = crate::backend::Cuda;
/// What burn-cuda's fusion runs on.
type Cube = CubeBackend<CudaRuntime, f32, i32, u8>;

/// One NCCL communicator over the job's ranks, one GPU each.
pub struct NcclReduce {
    comm: nccl_sys::ncclComm_t,
    context: std::sync::Arc<cudarc::driver::CudaContext>,
}

// SAFETY: the communicator is used from one thread at a time (the training loop's); NCCL
// communicators may be used from any thread that has the device's context current.
unsafe impl Send for NcclReduce {}
unsafe impl Sync for NcclReduce {}

impl NcclReduce {
    /// Joins the communicator of all ranks; each rank on CUDA device `ordinal`.
    pub fn join(world: &World, ordinal: usize) -> Result<Self> {
        let context = cudarc::driver::CudaContext::new(ordinal)
            .with_context(|| format!("CUDA device {ordinal}: cannot open its context"))?;
        context
            .bind_to_thread()
            .context("binding the CUDA context")?;
        // Every rank learns whether NCCL loads here, so that all take the same path.
        let mut id = [0u8; 128];
        let loaded = if world.is_root() {
            match std::panic::catch_unwind(nccl::get_uniqueid) {
                Ok(Ok(unique)) => {
                    for (b, c) in id.iter_mut().zip(unique.internal) {
                        *b = c as u8;
                    }
                    true
                }
                _ => false,
            }
        } else {
            true
        };
        if !world.all_agree(loaded, "the NCCL start-up") {
            bail!("NCCL could not be loaded on rank 0 (libnccl.so.2 missing?)");
        }
        world.broadcast_bytes(&mut id, "the NCCL start-up");
        let unique = nccl_sys::ncclUniqueId {
            internal: id.map(|b| b as std::ffi::c_char),
        };
        let mut comm = std::mem::MaybeUninit::uninit();
        // SAFETY: `comm` is written by ncclCommInitRank before it is read; the id is the one
        // rank 0 made, the same on every rank.
        let comm = unsafe {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                nccl::comm_init_rank(
                    comm.as_mut_ptr(),
                    world.size as i32,
                    unique,
                    world.rank as i32,
                )
            }))
            .map_err(|_| anyhow::anyhow!("NCCL could not be loaded (libnccl.so.2 missing?)"))?
            .map_err(|e| anyhow::anyhow!("ncclCommInitRank failed: {e:?}"))?;
            comm.assume_init()
        };
        Ok(Self { comm, context })
    }

    /// Sums `flat` over all ranks, in place on the device; returns it.
    pub fn sum_in_place(&self, flat: Tensor<Cuda, 1>) -> Result<Tensor<Cuda, 1>> {
        let count = flat.dims()[0];
        let fusion = flat.clone().into_primitive().tensor();
        let cube = fusion.client.clone().resolve_tensor_float::<Cube>(fusion);
        if cube.dtype != burn::tensor::DType::F32 {
            bail!("the gradient buffer is {:?}, not f32", cube.dtype);
        }
        // The kernels that wrote the buffer have finished.
        <Cube as Backend>::sync(&cube.device)
            .map_err(|e| anyhow::anyhow!("CUDA synchronisation failed: {e:?}"))?;
        let resource = cube
            .client
            .get_resource(cube.handle.clone())
            .map_err(|e| anyhow::anyhow!("the gradient buffer's memory: {e:?}"))?;
        let ptr = resource.resource().ptr;
        self.context
            .bind_to_thread()
            .context("binding the CUDA context")?;
        // SAFETY: `ptr` is the device buffer of `count` f32 values, kept alive by `resource`
        // and `flat`; the communicator is valid; the default stream (null) is ordered after
        // the synchronisation above and synchronised below before anyone reads the buffer.
        unsafe {
            nccl::all_reduce(
                ptr as *const std::ffi::c_void,
                ptr as *mut std::ffi::c_void,
                count,
                nccl_sys::ncclDataType_t::ncclFloat32,
                nccl_sys::ncclRedOp_t::ncclSum,
                self.comm,
                std::ptr::null_mut(),
            )
            .map_err(|e| anyhow::anyhow!("ncclAllReduce failed: {e:?}"))?;
        }
        self.context
            .synchronize()
            .context("waiting for the NCCL all-reduce")?;
        drop(resource);
        Ok(flat)
    }
}

impl super::DeviceSum<Cuda> for NcclReduce {
    fn sum_in_place(&self, flat: Tensor<Cuda, 1>) -> Result<Tensor<Cuda, 1>> {
        NcclReduce::sum_in_place(self, flat)
    }
}

impl Drop for NcclReduce {
    fn drop(&mut self) {
        // SAFETY: the communicator was initialised and is not used after this.
        unsafe {
            nccl::comm_destroy(self.comm).ok();
        }
    }
}
