//! Regression loss (DESIGN §6 "Regression: MSE"): mean squared error between the head's
//! outputs [B, K] and the clips' targets [B, K], averaged over clips and targets. DESIGN
//! names no mixing for regression, so mixup, CutMix and label smoothing are refused for
//! regression datasets when the config is validated.

use anyhow::{Result, bail};
use burn::prelude::*;

use super::clip_source::Label;

/// The targets of `labels` as a [B, `outputs`] tensor; a label that is not `outputs`
/// numbers is an error (the manifest reader of a regression dataset only yields those).
pub fn value_targets<B: Backend>(
    labels: &[Label],
    outputs: usize,
    device: &B::Device,
) -> Result<Tensor<B, 2>> {
    let mut flat = Vec::with_capacity(labels.len() * outputs);
    for (i, label) in labels.iter().enumerate() {
        match label {
            Label::Values(v) if v.len() == outputs => flat.extend_from_slice(v),
            other => bail!("clip {i} of the batch has label {other:?}, expected {outputs} numbers"),
        }
    }
    Ok(Tensor::from_data(
        TensorData::new(flat, [labels.len(), outputs]),
        device,
    ))
}

/// Mean squared error over every element of `outputs` and `targets` [B, K].
pub fn mse_loss<B: Backend>(outputs: Tensor<B, 2>, targets: Tensor<B, 2>) -> Tensor<B, 1> {
    (outputs - targets).powi_scalar(2).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;

    #[test]
    fn mse_averages_over_clips_and_targets() {
        let device = Default::default();
        let labels = [Label::Values(vec![1.0, 0.0]), Label::Values(vec![0.5, 2.0])];
        let targets = value_targets::<Cpu>(&labels, 2, &device).unwrap();
        let outputs = Tensor::<Cpu, 2>::from_floats([[0.0, 0.0], [0.5, 0.0]], &device);
        // Squared errors 1, 0, 0, 4 → mean 1.25.
        let loss = mse_loss(outputs, targets).into_scalar();
        assert!((loss - 1.25).abs() < 1e-6, "{loss}");
    }

    #[test]
    fn a_label_of_the_wrong_kind_is_an_error() {
        let device = Default::default();
        let err = value_targets::<Cpu>(&[Label::Class(3)], 2, &device).unwrap_err();
        assert!(err.to_string().contains("expected 2 numbers"), "{err}");
        let short = [Label::Values(vec![1.0])];
        assert!(value_targets::<Cpu>(&short, 2, &device).is_err());
    }
}
