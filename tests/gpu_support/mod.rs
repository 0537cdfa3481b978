//! What the GPU-path tests share: which CubeCL backend they run on, host-made inputs, named
//! tensors read back from a backend, and their comparison with the CPU backend.
//!
//! The backend is wgpu (on a machine without a GPU: Mesa's lavapipe, Vulkan on the CPU) or
//! CUDA, chosen by `SVFAP_GPU_TESTS=wgpu|cuda`; by default wgpu when built in, else CUDA.
#![allow(dead_code)]

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

/// How close a CubeCL backend must come to the CPU backend: the norm of the difference
/// over the norm of the CPU tensor, per tensor — or, for a tensor that is zero in exact
/// arithmetic and noise in both (the spatial bottleneck's `fc2.bias` only shifts logits along
/// the softmax axis, so its gradient is 0), a difference norm within the tolerance times the
/// RMS of all the observation's gradients (or all its values, for values) per element.
#[derive(Debug, Clone, Copy)]
pub struct Tolerances {
    /// One layer's output and gradients.
    pub part: f64,
    /// A whole model's outputs and every parameter's gradient.
    pub model: f64,
    /// Each loss of a 30-step training run.
    pub training: f64,
    /// A half-precision model's gradients against the same backend's f32 ones.
    pub half: f64,
}

impl Tolerances {
    /// wgpu computes in f32 like the CPU; only the order of the sums differs (tiled matmul,
    /// tree reductions): ~1e-6 per op. The budgets leave room for a model's depth.
    pub const WGPU: Self = Self {
        part: 1e-4,
        model: 1e-3,
        training: 1e-3,
        half: 5e-2,
    };
    /// CUDA runs f32 matmuls on TF32 tensor cores (10-bit mantissa, ~5e-4 relative per
    /// product), so a layer differs by ~1e-3 and a model's gradients by more.
    pub const CUDA: Self = Self {
        part: 1e-2,
        model: 3e-2,
        training: 1e-2,
        half: 1e-1,
    };
}

/// Runs `$check::<B>(&device, tolerances)` on the selected CubeCL backend.
#[macro_export]
macro_rules! on_gpu {
    ($check:ident) => {{
        let choice = gpu_support::selected();
        eprintln!("GPU-path test on {choice}");
        match choice {
            #[cfg(feature = "wgpu")]
            svfap_tui::backend::BackendChoice::Wgpu => $check::<svfap_tui::backend::WgpuTrain>(
                &svfap_tui::backend::wgpu_device(0),
                gpu_support::Tolerances::WGPU,
                choice,
            ),
            #[cfg(feature = "cuda")]
            svfap_tui::backend::BackendChoice::Cuda => $check::<svfap_tui::backend::CudaTrain>(
                &svfap_tui::backend::cuda_device(0),
                gpu_support::Tolerances::CUDA,
                choice,
            ),
            other => panic!("{}", svfap_tui::backend::not_built(other)),
        }
    }};
}

/// The backend asked for by `SVFAP_GPU_TESTS`, else wgpu when built in, else CUDA.
pub fn selected() -> svfap_tui::backend::BackendChoice {
    use svfap_tui::backend::BackendChoice;
    match std::env::var("SVFAP_GPU_TESTS").as_deref() {
        Ok("cuda") => BackendChoice::Cuda,
        Ok("wgpu") => BackendChoice::Wgpu,
        Ok(other) => panic!("SVFAP_GPU_TESTS={other}: expected wgpu or cuda"),
        Err(_) if cfg!(feature = "wgpu") => BackendChoice::Wgpu,
        Err(_) => BackendChoice::Cuda,
    }
}

/// `n` standard normal values from `seed`, the same on every machine.
pub fn normal_values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).unwrap();
    (0..n).map(|_| normal.sample(&mut rng)).collect()
}

/// A tensor of `shape` with [`normal_values`].
pub fn normal<B: Backend, const D: usize>(
    shape: [usize; D],
    seed: u64,
    device: &B::Device,
) -> Tensor<B, D> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new(normal_values(n, seed), shape), device)
}

/// Named tensors read back to the host, in the order they were added.
#[derive(Debug, Default)]
pub struct Observed {
    pub tensors: Vec<(String, Vec<f32>)>,
}

impl Observed {
    pub fn add<B: Backend, const D: usize>(&mut self, name: impl Into<String>, t: Tensor<B, D>) {
        let values = t
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("float tensor");
        self.tensors.push((name.into(), values));
    }

    /// Divides every gradient by `scale` (undoing a loss scale, as training does).
    pub fn unscale_grads(&mut self, scale: f32) {
        for (name, values) in &mut self.tensors {
            if name.starts_with("grad ") {
                values.iter_mut().for_each(|v| *v /= scale);
            }
        }
    }

    /// Every parameter's gradient (by parameter path), and "(none)" entries for those
    /// without one, so that a missing gradient shows as a difference.
    pub fn add_grads<B: AutodiffBackend, M: AutodiffModule<B>>(
        &mut self,
        module: &M,
        grads: &B::Gradients,
    ) {
        struct Grads<'a, B: AutodiffBackend> {
            grads: &'a B::Gradients,
            path: Vec<String>,
            out: &'a mut Observed,
        }
        impl<B: AutodiffBackend> ModuleVisitor<B> for Grads<'_, B> {
            fn enter_module(&mut self, name: &str, _: &str) {
                self.path.push(name.to_string());
            }
            fn exit_module(&mut self, _: &str, _: &str) {
                self.path.pop();
            }
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                let name = format!("grad {}", self.path.join("."));
                match param.val().grad(self.grads) {
                    Some(g) => self.out.add(name, g),
                    None => self.out.tensors.push((format!("{name} (none)"), vec![])),
                }
            }
        }
        module.visit(&mut Grads::<B> {
            grads,
            path: Vec::new(),
            out: self,
        });
    }
}

/// ‖a − b‖ / ‖b‖ (b = 0: ‖a‖), and max |a − b|.
pub fn differences(a: &[f32], b: &[f32]) -> (f64, f64) {
    let (mut diff, mut norm, mut max) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let d = (x as f64 - y as f64).abs();
        diff += d * d;
        norm += (y as f64) * (y as f64);
        max = max.max(d);
    }
    let rel = if norm > 0.0 {
        (diff / norm).sqrt()
    } else {
        diff.sqrt()
    };
    (rel, max)
}

/// Asserts every tensor of `gpu` within `tolerance` of the same tensor of `cpu`, printing
/// each difference (`cargo test -- --nocapture` shows them).
pub fn assert_matches(what: &str, gpu: &Observed, cpu: &Observed, tolerance: f64) {
    assert_eq!(
        gpu.tensors.iter().map(|t| &t.0).collect::<Vec<_>>(),
        cpu.tensors.iter().map(|t| &t.0).collect::<Vec<_>>(),
        "{what}: different tensors observed"
    );
    let rms = |grads: bool| {
        let (mut sum, mut n) = (0.0f64, 0usize);
        for (name, values) in &cpu.tensors {
            if name.starts_with("grad ") == grads {
                sum += values.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
                n += values.len();
            }
        }
        (sum / n.max(1) as f64).sqrt()
    };
    let (grad_rms, value_rms) = (rms(true), rms(false));
    let mut failures = Vec::new();
    let mut ranked = Vec::new();
    for ((name, a), (_, b)) in gpu.tensors.iter().zip(&cpu.tensors) {
        assert_eq!(a.len(), b.len(), "{what}: {name}: sizes differ");
        let (rel, max) = differences(a, b);
        let norm = b.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
        ranked.push((rel, format!("{name} {rel:.2e} (norm {norm:.2e})")));
        let typical = if name.starts_with("grad ") {
            grad_rms
        } else {
            value_rms
        };
        let diff_norm = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        let near_zero = diff_norm <= tolerance * typical * (a.len() as f64).sqrt();
        if !(rel <= tolerance || near_zero) {
            failures.push(format!("{name}: relative {rel:.2e} (max abs {max:.2e})"));
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let worst: Vec<&str> = ranked.iter().take(3).map(|r| r.1.as_str()).collect();
    eprintln!(
        "{what}: {} tensors within {tolerance:.0e}; largest relative differences: {}",
        gpu.tensors.len(),
        worst.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{what}: beyond {tolerance:.0e}:\n{}",
        failures.join("\n")
    );
}
