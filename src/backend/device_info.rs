//! What a bench or a run reports about its device: the memory CubeCL holds, and the GPU's
//! name and dense peak throughput (for MFU).

use super::BackendChoice;

/// Bytes CubeCL has reserved on device `index` for the calling thread's stream (CubeCL
/// keeps one memory pool per stream, and a stream per calling thread). Pools keep what they
/// reserve, so after a workload this is its peak reservation. None on the CPU backend.
#[allow(unused_variables)]
pub fn reserved_bytes(choice: BackendChoice, index: usize) -> Option<u64> {
    #[cfg(any(feature = "cuda", feature = "wgpu"))]
    use burn_cubecl::cubecl::Runtime;
    match choice {
        #[cfg(feature = "cuda")]
        BackendChoice::Cuda => {
            let device = super::cuda_device(index);
            let client = burn_cubecl::cubecl::cuda::CudaRuntime::client(&device);
            client.memory_usage().ok().map(|m| m.bytes_reserved)
        }
        #[cfg(feature = "wgpu")]
        BackendChoice::Wgpu => {
            let device = super::wgpu_device(index);
            let client = burn_cubecl::cubecl::wgpu::WgpuRuntime::client(&device);
            client.memory_usage().ok().map(|m| m.bytes_reserved)
        }
        _ => None,
    }
}

/// The name NVML gives NVIDIA GPU `index` ("NVIDIA H200"), if NVML is there.
pub fn nvidia_name(index: usize) -> Option<String> {
    let nvml = nvml_wrapper::Nvml::init().ok()?;
    nvml.device_by_index(index as u32).ok()?.name().ok()
}

/// Dense peak TFLOP/s of a GPU by name, for the product type of `precision`'s matmuls:
/// bf16/f16 tensor cores, or TF32 for f32 (CubeCL's f32 matmuls use TF32 tensor cores on
/// NVIDIA). NVIDIA's data-sheet figures without sparsity, SXM boards.
pub fn peak_tflops(device_name: &str, half: bool) -> Option<f64> {
    let name = device_name.to_ascii_uppercase();
    // (name fragment, bf16/f16 dense, TF32 dense)
    const TABLE: [(&str, f64, f64); 5] = [
        ("H200", 989.0, 494.5),
        ("H100 PCIE", 756.0, 378.0),
        ("H100", 989.0, 494.5),
        ("A100", 312.0, 156.0),
        ("L40S", 362.0, 183.0),
    ];
    TABLE
        .iter()
        .find(|(fragment, _, _)| name.contains(fragment))
        .map(|&(_, half_peak, tf32_peak)| if half { half_peak } else { tf32_peak })
}

/// The CPU's model name and the vector extension its kernels run with, for benchmark
/// output: `Intel(R) Xeon(R) Processor, gemm and GELU AVX-512, other kernels AVX2+FMA`.
pub fn cpu_line() -> String {
    format!(
        "{}, {}",
        cpu_name(),
        crate::cpu_kernels::parallel::dispatch_level()
    )
}

/// The CPU's model name (`/proc/cpuinfo`), for benchmark output.
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_are_found_by_device_name() {
        assert_eq!(peak_tflops("NVIDIA H200", true), Some(989.0));
        assert_eq!(peak_tflops("NVIDIA H100 80GB HBM3", false), Some(494.5));
        assert_eq!(peak_tflops("NVIDIA H100 PCIe", true), Some(756.0));
        assert_eq!(peak_tflops("llvmpipe (LLVM 15.0.6, 256 bits)", true), None);
    }
}
