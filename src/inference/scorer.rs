//! A model loaded once and applied to batches of normalised clips: class probabilities (or
//! regression outputs), the head's raw outputs, and the pooled encoder features.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::model::checkpoint::{
    ArchitectureHints, CheckpointTensors, ModelSpec, infer_spec, init_classifier_from_pretrainer,
    load_classifier,
};
use crate::model::input_spec::InputSpec;
use crate::model::{ClassifierConfig, SvfapClassifier};

/// What one clip gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipScore {
    /// Softmax probabilities (classification) or the head's values (regression).
    pub probs: Vec<f32>,
    pub logits: Vec<f32>,
    /// Pooled, normalised encoder features (`fc_norm` output).
    pub features: Vec<f32>,
}

/// The model of a checkpoint plus how its clips are made.
pub struct Scorer<B: Backend> {
    model: SvfapClassifier<B>,
    device: B::Device,
    pub config: ClassifierConfig,
    pub input: InputSpec,
    /// The checkpoint is a pre-trained encoder without a trained head (features only).
    pub encoder_only: bool,
}

/// Reads the architecture of a checkpoint: a fine-tuned classifier, or (with
/// `allow_encoder_only`) a pre-trained encoder whose features are pooled the same way.
pub fn classifier_config(
    ckpt: &CheckpointTensors,
    allow_encoder_only: bool,
) -> Result<(ClassifierConfig, bool)> {
    match infer_spec(ckpt, &ArchitectureHints::default())? {
        ModelSpec::Classifier(c) => Ok((c, false)),
        ModelSpec::Pretrainer(p) if allow_encoder_only => Ok((
            // The head is never read: one output keeps it small.
            ClassifierConfig {
                encoder: p.encoder,
                num_outputs: 1,
                head_activation: Default::default(),
                fuse_multiscale: false,
            },
            true,
        )),
        ModelSpec::Pretrainer(_) => bail!(
            "{}: is a pre-training checkpoint (it has a decoder); fine-tune it before inference \
             (`svfap-tui features` reads its encoder)",
            ckpt.path.display()
        ),
    }
}

impl<B: Backend> Scorer<B> {
    /// Loads the model. `input` overrides what the checkpoint records (else the paper's
    /// protocol).
    pub fn load(
        ckpt: &CheckpointTensors,
        config: ClassifierConfig,
        encoder_only: bool,
        input: InputSpec,
        device: &B::Device,
    ) -> Result<Self> {
        let model = if encoder_only {
            let mut model = SvfapClassifier::<B>::new(&config, 0, device);
            init_classifier_from_pretrainer(&mut model, ckpt)?;
            model
        } else {
            load_classifier::<B>(&config, ckpt, device)?
        };
        Ok(Self {
            model,
            device: device.clone(),
            config,
            input,
            encoder_only,
        })
    }

    /// `[3, T, H, W]` of one clip.
    pub fn clip_shape(&self) -> [usize; 4] {
        let e = &self.config.encoder;
        [e.in_chans, e.frames, e.img_size, e.img_size]
    }

    /// A prepared clip (`.npy` float32 `[3, T, H, W]`, normalised), refused by name when its
    /// shape is not the model's or a value is not finite.
    pub fn read_clip(&self, path: &Path) -> Result<Vec<f32>> {
        let array = crate::npy::read_f32(path)?;
        let expected = self.clip_shape();
        if array.shape != expected {
            bail!(
                "{}: shape {:?} does not match the model's input [3, T, H, W] = {:?}",
                path.display(),
                array.shape,
                expected
            );
        }
        if let Some(i) = array.values.iter().position(|v| !v.is_finite()) {
            let [_, t, h, w] = expected;
            let (c, rest) = (i / (t * h * w), i % (t * h * w));
            bail!(
                "{}: value {} at [channel {c}, frame {}, row {}, column {}] is not a finite \
                 number; the model needs finite input",
                path.display(),
                array.values[i],
                rest / (h * w),
                rest % (h * w) / w,
                rest % w
            );
        }
        Ok(array.values)
    }

    /// The encoder, for writing the attention maps of a clip.
    pub fn probed(&self) -> crate::train::attn_artifacts::ProbedEncoder<'_, B> {
        crate::train::attn_artifacts::ProbedEncoder {
            encoder: &self.model.encoder,
            positions: &self.model.positions,
        }
    }

    pub fn device(&self) -> &B::Device {
        &self.device
    }

    /// Scores `n` clips laid out one after another in `clips`.
    pub fn score(&self, clips: Vec<f32>, n: usize) -> Result<Vec<ClipScore>> {
        let [c, t, h, w] = self.clip_shape();
        if clips.len() != n * c * t * h * w {
            bail!(
                "{} values for {n} clips of {:?}",
                clips.len(),
                self.clip_shape()
            );
        }
        if n == 0 {
            return Ok(vec![]);
        }
        let video =
            Tensor::<B, 5>::from_data(TensorData::new(clips, [n, c, t, h, w]), &self.device);
        let out = self.model.forward(video);
        let probs = if self.input.regression {
            out.logits.clone()
        } else {
            softmax(out.logits.clone(), 1)
        };
        let rows = |t: Tensor<B, 2>| -> Result<Vec<Vec<f32>>> {
            let [_, k] = t.dims();
            let v = t
                .into_data()
                .to_vec::<f32>()
                .map_err(|e| anyhow!("reading model output: {e:?}"))?;
            Ok(v.chunks(k.max(1)).map(<[f32]>::to_vec).collect())
        };
        let (logits, probs, features) = (rows(out.logits)?, rows(probs)?, rows(out.features)?);
        Ok(logits
            .into_iter()
            .zip(probs)
            .zip(features)
            .map(|((logits, probs), features)| ClipScore {
                probs,
                logits,
                features,
            })
            .collect())
    }
}

/// Element-wise mean of equally long vectors (empty for none).
pub fn mean_of<'a>(rows: impl IntoIterator<Item = &'a [f32]>) -> Vec<f32> {
    let mut sum: Vec<f64> = vec![];
    let mut n = 0usize;
    for r in rows {
        if sum.is_empty() {
            sum = vec![0.0; r.len()];
        }
        for (s, v) in sum.iter_mut().zip(r) {
            *s += f64::from(*v);
        }
        n += 1;
    }
    sum.into_iter()
        .map(|s| (s / n.max(1) as f64) as f32)
        .collect()
}

/// Index of the largest value.
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_argmax() {
        let a = [1.0f32, 0.0];
        let b = [0.0f32, 3.0];
        assert_eq!(mean_of([&a[..], &b[..]]), vec![0.5, 1.5]);
        assert!(mean_of(std::iter::empty::<&[f32]>()).is_empty());
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
    }
}
