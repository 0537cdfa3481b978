//! Test-set evaluation (DESIGN §6): each video's N clips through the model, averaged —
//! softmax probabilities for classification ("softmax averaged"), the head's outputs for
//! regression — then scored into `eval/<dataset>-<split>.json` (see `eval_report`).

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::clip_source::{ClipSource, Label, LabelSpace};
use super::eval_report::{EvalScope, score_predictions};
use crate::data::registry::Task;
use crate::model::SvfapClassifier;
use crate::session::EvalReport;
use crate::session::artifacts::Prediction;

/// Predicts every test video of `source` and scores the predictions.
pub fn evaluate<B: Backend>(
    model: &SvfapClassifier<B>,
    source: &mut dyn ClipSource,
    labels: &LabelSpace,
    scope: &EvalScope,
) -> Result<EvalReport> {
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
        let averaged = match labels.task {
            Task::Classification => softmax(logits, 1),
            Task::Regression => logits,
        }
        .mean_dim(0);
        let averaged: Vec<f64> = averaged
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .into_iter()
            .map(f64::from)
            .collect();
        predictions.push(match labels.task {
            Task::Classification => {
                let pred = averaged
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                Prediction {
                    path: video.path,
                    label: label_json(&video.label),
                    pred: pred.into(),
                    probs: averaged,
                }
            }
            Task::Regression => Prediction {
                path: video.path,
                label: label_json(&video.label),
                pred: averaged.into(),
                probs: vec![],
            },
        });
    }
    score_predictions(scope, labels.task, &labels.names, predictions)
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
