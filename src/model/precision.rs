//! Mixed precision, as PyTorch's autocast: a per-thread setting under which the model's
//! matrix products (Linear layers, attention's q·kᵀ and p·v) run in a half type, while
//! weights, gradients, AdamW moments, LayerNorm, softmax, the loss and reductions stay f32.
//! Each product casts its f32 operands to the half type and its result back to f32, so
//! autodiff records the casts and the backward pass runs in the same types (burn's `cast`
//! backward casts the gradient back to its input's type). Operands of one op always share a
//! dtype: mixing them inside one op panics under burn-fusion.
//!
//! f16 has 5 exponent bits; its training needs dynamic loss scaling
//! (`train::loss_scale`), bf16 does not.

use std::cell::Cell;

use burn::prelude::*;
use burn::tensor::FloatDType;
use serde::{Deserialize, Serialize};

use crate::backend::BackendChoice;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Everything in f32 (on CUDA, CubeCL's f32 matmuls may use TF32 tensor cores).
    #[default]
    F32,
    /// Products in bfloat16 (8 exponent bits: no loss scaling needed).
    Bf16,
    /// Products in float16, with dynamic loss scaling when training.
    F16,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
            Self::F16 => "f16",
        }
    }

    /// What a run uses when its config does not say: bf16 on CUDA, f32 elsewhere.
    pub fn default_for(backend: BackendChoice) -> Self {
        match backend {
            BackendChoice::Cuda => Self::Bf16,
            _ => Self::F32,
        }
    }

    /// The half type products run in, None for f32.
    pub fn half(self) -> Option<FloatDType> {
        match self {
            Self::F32 => None,
            Self::Bf16 => Some(FloatDType::BF16),
            Self::F16 => Some(FloatDType::F16),
        }
    }

    /// Why `backend` cannot run this precision, if it cannot.
    pub fn unsupported_on(self, backend: BackendChoice) -> Option<String> {
        match (self, backend) {
            (Self::F32, _) | (_, BackendChoice::Cuda) => None,
            (_, BackendChoice::Cpu) => Some(format!(
                "precision \"{}\" needs a GPU backend (cuda or wgpu); the CPU backend computes in f32",
                self.name()
            )),
            (Self::Bf16, BackendChoice::Wgpu) => Some(
                "precision \"bf16\" is not available on wgpu (burn-wgpu 0.21 has no bf16: its \
                 shaders fail and values come back wrong); use \"f16\" or \"f32\""
                    .into(),
            ),
            (Self::F16, BackendChoice::Wgpu) => None,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

thread_local! {
    static CURRENT: Cell<Precision> = const { Cell::new(Precision::F32) };
}

/// Products on this thread run in `precision` until the guard is dropped.
#[must_use = "autocast lasts as long as its guard"]
pub fn autocast(precision: Precision) -> AutocastGuard {
    let previous = CURRENT.with(|d| d.replace(precision));
    AutocastGuard { previous }
}

/// Restores the previous setting when dropped.
pub struct AutocastGuard {
    previous: Precision,
}

impl Drop for AutocastGuard {
    fn drop(&mut self) {
        CURRENT.with(|d| d.set(self.previous));
    }
}

/// The precision set on this thread (f32 unless inside [`autocast`]).
pub fn current_precision() -> Precision {
    CURRENT.with(Cell::get)
}

/// The half type products run in on this thread, if any.
pub fn product_dtype() -> Option<FloatDType> {
    current_precision().half()
}

/// `a · b` (batched over leading dims), in the autocast type when one is set, as f32.
pub fn matmul<B: Backend, const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>) -> Tensor<B, D> {
    match product_dtype() {
        Some(half) => a.cast(half).matmul(b.cast(half)).cast(FloatDType::F32),
        None => a.matmul(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autocast_is_scoped_and_nests() {
        assert_eq!(product_dtype(), None);
        {
            let _outer = autocast(Precision::F16);
            assert_eq!(product_dtype(), Some(FloatDType::F16));
            {
                let _inner = autocast(Precision::F32);
                assert_eq!(product_dtype(), None);
            }
            assert_eq!(product_dtype(), Some(FloatDType::F16));
        }
        assert_eq!(product_dtype(), None);
    }

    #[test]
    fn backends_refuse_what_they_cannot_run_by_name() {
        assert!(
            Precision::Bf16
                .unsupported_on(BackendChoice::Cuda)
                .is_none()
        );
        assert!(Precision::F16.unsupported_on(BackendChoice::Wgpu).is_none());
        let wgpu = Precision::Bf16.unsupported_on(BackendChoice::Wgpu).unwrap();
        assert!(wgpu.contains("bf16") && wgpu.contains("wgpu"), "{wgpu}");
        let cpu = Precision::F16.unsupported_on(BackendChoice::Cpu).unwrap();
        assert!(cpu.contains("f16") && cpu.contains("GPU backend"), "{cpu}");
        assert_eq!(Precision::default_for(BackendChoice::Cuda), Precision::Bf16);
        assert_eq!(Precision::default_for(BackendChoice::Wgpu), Precision::F32);
    }
}
