//! Backends: burn's pure-Rust `flex` on CPU (chosen by measurement, see README), and CUDA
//! behind the `cuda` feature.

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
pub type Gpu = burn::backend::Cuda;
#[cfg(feature = "cuda")]
pub type GpuTrain = burn::backend::Autodiff<Gpu>;

/// CubeCL compiles each CUDA kernel with NVRTC at its first use; for SVFAP that is minutes
/// (a tiny model's first CUDA inference was still compiling after 50 s on an H200), and
/// without a cache every run pays it again. Unless a `cubecl.toml`/`burn.toml` (looked up
/// from the working folder upwards, as CubeCL does) chooses a cache, compiled kernels are
/// kept under `~/.cache/svfap-tui/cubecl`. Every CUDA device comes from [`cuda_device`], so
/// this runs before any CUDA work, once.
#[cfg(feature = "cuda")]
fn configure_cuda_kernel_cache() {
    use burn_cubecl::cubecl::config::cache::CacheConfig;
    use burn_cubecl::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
        if config.compilation.cache.is_none()
            && let Some(home) = std::env::var_os("HOME")
        {
            let dir = std::path::Path::new(&home).join(".cache/svfap-tui/cubecl");
            config.compilation.cache = Some(CacheConfig::File(dir));
        }
        CubeClRuntimeConfig::set(config);
    });
}

/// GPU `index`, with CubeCL configured first (the kernel cache above).
#[cfg(feature = "cuda")]
pub fn cuda_device(index: usize) -> burn::backend::cuda::CudaDevice {
    configure_cuda_kernel_cache();
    burn::backend::cuda::CudaDevice::new(index)
}
