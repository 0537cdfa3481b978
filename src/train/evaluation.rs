//! Test-set evaluation (DESIGN §6): each video's N clips through the model, averaged —
//! softmax probabilities for classification ("softmax averaged"), the head's outputs for
//! regression — then scored into `eval/<dataset>-<split>.json` (see `eval_report`; several
//! ranks combine their shares with `eval_gather`).

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::clip_source::{ClipSource, Label};
use crate::data::registry::Task;
use crate::model::SvfapClassifier;
use crate::session::artifacts::Prediction;

/// The averaged outputs (softmax probabilities, or regression outputs) of the test videos
/// `source` yields (this rank's share), with each video's place in the test manifest.
pub fn predict<B: Backend>(
    model: &SvfapClassifier<B>,
    source: &mut dyn ClipSource,
    task: Task,
) -> Result<Vec<(usize, Vec<f32>)>> {
    let device = model.fc_norm.gamma.val().device();
    let [c, t, h, w] = source.clip_shape();
    let mut predictions = vec![];
    for video in source.test_videos() {
        let video = video?;
        let clips = Tensor::<B, 5>::from_data(
            TensorData::new(video.clips, [video.views, c, t, h, w]),
            &device,
        );
        let logits = model.forward(clips).logits;
        let averaged = match task {
            Task::Classification => softmax(logits, 1),
            Task::Regression => logits,
        }
        .mean_dim(0);
        let averaged = averaged
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        predictions.push((video.index, averaged));
    }
    Ok(predictions)
}

/// A video's prediction from its averaged outputs: the top class and the probabilities, or
/// the regression outputs.
pub fn prediction(task: Task, path: String, label: &Label, averaged: &[f32]) -> Prediction {
    let averaged: Vec<f64> = averaged.iter().map(|&v| f64::from(v)).collect();
    match task {
        Task::Classification => {
            let pred = averaged
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .unwrap_or(0);
            Prediction {
                path,
                label: label_json(label),
                pred: pred.into(),
                probs: averaged,
            }
        }
        Task::Regression => Prediction {
            path,
            label: label_json(label),
            pred: averaged.into(),
            probs: vec![],
        },
    }
}

/// A label as written into `predictions`: a class index or an array of targets.
fn label_json(label: &Label) -> serde_json::Value {
    match label {
        Label::Class(c) => (*c).into(),
        // Through the shortest decimal of the f32, so `0.65` in a manifest stays 0.65.
        Label::Values(v) => v
            .iter()
            .map(|x| x.to_string().parse::<f64>().unwrap_or(f64::from(*x)))
            .collect::<Vec<_>>()
            .into(),
        Label::None => serde_json::Value::Null,
    }
}
