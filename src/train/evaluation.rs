//! Test-set evaluation (DESIGN §6): each video's N clips, softmax averaged; UAR, WAR,
//! weighted F1, confusion matrix, per-class recall and every prediction, written to
//! `eval/<dataset>-<split>.json`.

use std::collections::BTreeMap;

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::clip_source::ClipSource;
use super::metrics::{confusion_matrix, per_class_recall, uar, war, weighted_f1};
use crate::model::SvfapClassifier;
use crate::session::EvalReport;
use crate::session::artifacts::Prediction;

/// Classifies every test video of `source`; the report's `dataset`/`split`/`fold` are given.
pub fn evaluate<B: Backend>(
    model: &SvfapClassifier<B>,
    source: &mut dyn ClipSource,
    class_names: &[String],
    dataset: &str,
    split: &str,
    fold: Option<u32>,
) -> Result<EvalReport> {
    let device = model.fc_norm.gamma.val().device();
    let [c, t, h, w] = source.clip_shape();
    let classes = class_names.len();
    let (mut labels, mut preds, mut predictions) = (vec![], vec![], vec![]);
    for video in source.test_videos() {
        let video = video?;
        let clips = Tensor::<B, 5>::from_data(
            TensorData::new(video.clips, [video.views, c, t, h, w]),
            &device,
        );
        let probs = softmax(model.forward(clips).logits, 1).mean_dim(0);
        let probs: Vec<f32> = probs
            .into_data()
            .to_vec()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let pred = probs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        labels.push(video.label);
        preds.push(pred);
        predictions.push(Prediction {
            path: video.path,
            label: video.label.into(),
            pred: pred.into(),
            probs: probs.iter().map(|&p| p as f64).collect(),
        });
    }
    let confusion = confusion_matrix(&labels, &preds, classes);
    let metrics = BTreeMap::from([
        ("uar".to_string(), uar(&confusion)),
        ("war".to_string(), war(&confusion)),
        ("weighted_f1".to_string(), weighted_f1(&confusion)),
    ]);
    Ok(EvalReport {
        format: 1,
        dataset: dataset.to_string(),
        split: split.to_string(),
        fold,
        task: "classification".into(),
        metrics,
        class_names: class_names.to_vec(),
        per_class_recall: per_class_recall(&confusion)
            .into_iter()
            .map(|r| r.unwrap_or(0.0))
            .collect(),
        confusion,
        predictions,
    })
}
