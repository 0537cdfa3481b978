//! Backends: burn's pure-Rust `flex` on CPU (chosen by measurement, see README), CUDA behind
//! the `cuda` feature, and wgpu (Vulkan, Metal) behind `wgpu`. burn-cuda and burn-wgpu are
//! the same burn-cubecl + burn-fusion code with another kernel compiler, so the wgpu build on
//! Mesa's lavapipe (Vulkan on the CPU) is how machines without a GPU test the GPU code path.

mod choice;
#[cfg(any(feature = "cuda", feature = "wgpu"))]
mod cubecl_config;
pub mod device_info;
pub mod malloc_settings;
mod same_type;

pub use choice::{BackendChoice, not_built};
pub use same_type::same_type;

pub type Cpu = burn::backend::Flex;
pub type CpuTrain = burn::backend::Autodiff<Cpu>;

/// Makes the calling thread worker 0 of rayon's global pool, which burn-flex and
/// `cpu_kernels` run their parallel loops on. Called first thing on the main thread, which
/// runs the model: its parallel loops then start in place and the other workers steal from
/// them, instead of each loop being handed to the pool while the caller sleeps. On the demo
/// preset (2 cores) that took a pre-training step from 120 to 96 ms and inference from 60
/// to 49 ms. The pool keeps rayon's size (`RAYON_NUM_THREADS`, else one per core).
pub fn make_this_thread_a_cpu_worker() {
    // Fails only if the pool already exists, which then serves as is.
    rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
        .ok();
}

#[cfg(feature = "cuda")]
pub type Cuda = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type CudaTrain = burn::backend::Autodiff<Cuda>;

/// GPU `index`, with CubeCL configured first (kernel and autotune caches).
#[cfg(feature = "cuda")]
pub fn cuda_device(index: usize) -> burn::backend::cuda::CudaDevice {
    cubecl_config::configure_once();
    burn::backend::cuda::CudaDevice::new(index)
}

#[cfg(feature = "wgpu")]
pub type Wgpu = burn::backend::Wgpu;
#[cfg(feature = "wgpu")]
pub type WgpuTrain = burn::backend::Autodiff<Wgpu>;

/// wgpu device `index`: 0 is the adapter wgpu prefers (a software adapter such as lavapipe
/// when it is the only one), any other the `index`-th discrete GPU. Configures CubeCL first.
#[cfg(feature = "wgpu")]
pub fn wgpu_device(index: usize) -> burn::backend::wgpu::WgpuDevice {
    use burn::backend::wgpu::WgpuDevice;
    cubecl_config::configure_once();
    if index == 0 {
        WgpuDevice::DefaultDevice
    } else {
        WgpuDevice::DiscreteGpu(index)
    }
}

#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub use cubecl_config::cache_dir as cubecl_cache_dir;

/// "; kernel caches in DIR" where a GPU backend is built in, for messages.
pub fn cubecl_cache_note() -> String {
    #[cfg(any(feature = "cuda", feature = "wgpu"))]
    if let Some(dir) = cubecl_config::cache_dir() {
        return format!("; kernel caches in {}", dir.display());
    }
    String::new()
}

/// Runs `$body` with `$b` bound to the autodiff backend of `$choice` and `$device_of` to a
/// function from a device index to that backend's device; evaluates to the body's
/// `anyhow::Result`, or to an error naming the cargo feature when this binary was built
/// without that backend. The inference backend is `<$b as AutodiffBackend>::InnerBackend`.
#[macro_export]
macro_rules! with_backend {
    ($choice:expr, |$b:ident, $device_of:ident| $body:expr) => {{
        match $choice {
            $crate::backend::BackendChoice::Cpu => {
                type $b = $crate::backend::CpuTrain;
                let $device_of = |_: usize| burn::backend::flex::FlexDevice;
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::backend::BackendChoice::Cuda => {
                type $b = $crate::backend::CudaTrain;
                let $device_of = $crate::backend::cuda_device;
                $body
            }
            #[cfg(feature = "wgpu")]
            $crate::backend::BackendChoice::Wgpu => {
                type $b = $crate::backend::WgpuTrain;
                let $device_of = $crate::backend::wgpu_device;
                $body
            }
            #[allow(unreachable_patterns)]
            other => Err(anyhow::anyhow!($crate::backend::not_built(other))),
        }
    }};
}
