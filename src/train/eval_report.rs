//! `eval/<dataset>-<split>.json` from a list of predictions (DESIGN §3, §6). The same
//! function scores one run's test set and the union of all folds' predictions
//! (cross-validation pools predictions, DESIGN §6), so both are computed identically.
//!
//! Classification: `label` and `pred` are class indices; metrics `uar`, `war`,
//! `weighted_f1`, with the confusion matrix and per-class recall. Regression: `label` and
//! `pred` are arrays with one number per target; metrics `pcc`, `ccc`, `acc` (= 1 − MAE),
//! `mae` and `mse` averaged over the targets, and `pcc_<target>`, `ccc_<target>`,
//! `acc_<target>` per target.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

use super::metrics::{
    ccc, confusion_matrix, one_minus_mae, pcc, per_class_recall, uar, war, weighted_f1,
};
use crate::data::registry::Task;
use crate::session::EvalReport;
use crate::session::artifacts::Prediction;

/// Which evaluation a report is.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalScope {
    pub dataset: String,
    /// `test`, or `cv` for pooled folds.
    pub split: String,
    pub fold: Option<u32>,
}

/// The report name of a task (`task` in the JSON).
pub fn task_name(task: Task) -> &'static str {
    match task {
        Task::Classification => "classification",
        Task::Regression => "regression",
    }
}

/// The task a report's `task` field names.
pub fn parse_task(name: &str) -> Result<Task> {
    match name {
        "classification" => Ok(Task::Classification),
        "regression" => Ok(Task::Regression),
        other => bail!("task `{other}`: expected classification or regression"),
    }
}

/// Scores `predictions` and returns the full report; `label_names` are the classes or the
/// regression targets in output order.
pub fn score_predictions(
    scope: &EvalScope,
    task: Task,
    label_names: &[String],
    predictions: Vec<Prediction>,
) -> Result<EvalReport> {
    let mut report = EvalReport {
        format: 1,
        dataset: scope.dataset.clone(),
        split: scope.split.clone(),
        fold: scope.fold,
        task: task_name(task).into(),
        metrics: BTreeMap::new(),
        class_names: label_names.to_vec(),
        confusion: vec![],
        per_class_recall: vec![],
        predictions: vec![],
        videos_scored: predictions.len(),
        videos_skipped: 0,
    };
    if predictions.is_empty() {
        bail!(
            "{} {}: no video to score (an evaluation of nothing is not a score)",
            scope.dataset,
            scope.split
        );
    }
    match task {
        Task::Classification => {
            let classes = label_names.len();
            let class = |v: &serde_json::Value, what: &str, path: &str| -> Result<usize> {
                v.as_u64()
                    .map(|c| c as usize)
                    .filter(|&c| c < classes)
                    .with_context(|| {
                        format!(
                            "prediction for {path}: {what} {v} is not a class index below {classes}"
                        )
                    })
            };
            let (mut labels, mut preds) = (vec![], vec![]);
            for p in &predictions {
                labels.push(class(&p.label, "label", &p.path)?);
                preds.push(class(&p.pred, "pred", &p.path)?);
            }
            let confusion = confusion_matrix(&labels, &preds, classes);
            report.metrics = BTreeMap::from([
                ("uar".to_string(), uar(&confusion)),
                ("war".to_string(), war(&confusion)),
                ("weighted_f1".to_string(), weighted_f1(&confusion)),
            ]);
            report.per_class_recall = per_class_recall(&confusion)
                .into_iter()
                .map(|r| r.unwrap_or(0.0))
                .collect();
            report.confusion = confusion;
        }
        Task::Regression => {
            let k = label_names.len();
            let values = |v: &serde_json::Value, what: &str, path: &str| -> Result<Vec<f64>> {
                v.as_array()
                    .map(|a| a.iter().filter_map(|x| x.as_f64()).collect::<Vec<_>>())
                    .filter(|a| a.len() == k)
                    .with_context(|| {
                        format!("prediction for {path}: {what} {v} is not an array of {k} numbers")
                    })
            };
            // Column per target: truth[j][i] is target j of video i.
            let (mut truth, mut pred) = (vec![vec![]; k], vec![vec![]; k]);
            for p in &predictions {
                let (t, y) = (
                    values(&p.label, "label", &p.path)?,
                    values(&p.pred, "pred", &p.path)?,
                );
                for j in 0..k {
                    truth[j].push(t[j]);
                    pred[j].push(y[j]);
                }
            }
            report.metrics = regression_metrics(label_names, &truth, &pred);
        }
    }
    report.predictions = predictions;
    Ok(report)
}

/// Per-target and mean PCC, CCC and ACC, plus mean MAE and MSE; `truth`/`pred` hold one
/// column per target.
fn regression_metrics(
    names: &[String],
    truth: &[Vec<f64>],
    pred: &[Vec<f64>],
) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    let k = names.len().max(1) as f64;
    let (mut sums, mut mse) = ([0.0; 3], 0.0);
    for (j, name) in names.iter().enumerate() {
        let (t, y) = (&truth[j], &pred[j]);
        let scores = [pcc(y, t), ccc(y, t), one_minus_mae(y, t)];
        for (i, key) in ["pcc", "ccc", "acc"].iter().enumerate() {
            m.insert(format!("{key}_{name}"), scores[i]);
            sums[i] += scores[i];
        }
        let n = t.len().max(1) as f64;
        mse += t.iter().zip(y).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n;
    }
    for (i, key) in ["pcc", "ccc", "acc"].iter().enumerate() {
        m.insert(key.to_string(), sums[i] / k);
    }
    m.insert("mae".into(), 1.0 - m["acc"]);
    m.insert("mse".into(), mse / k);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> EvalScope {
        EvalScope {
            dataset: "d".into(),
            split: "test".into(),
            fold: Some(1),
        }
    }

    fn prediction(label: serde_json::Value, pred: serde_json::Value) -> Prediction {
        Prediction {
            path: "v.mp4".into(),
            label,
            pred,
            probs: vec![],
        }
    }

    #[test]
    fn regression_reports_per_target_and_mean_scores() {
        let names = vec!["a".to_string(), "b".to_string()];
        let preds = vec![
            prediction(serde_json::json!([0.0, 1.0]), serde_json::json!([0.0, 0.5])),
            prediction(serde_json::json!([1.0, 0.0]), serde_json::json!([1.0, 0.5])),
        ];
        let r = score_predictions(&scope(), Task::Regression, &names, preds).unwrap();
        assert_eq!(r.task, "regression");
        assert!(r.confusion.is_empty());
        // Target a is predicted exactly; target b is a constant 0.5 (no correlation).
        assert!((r.metrics["pcc_a"] - 1.0).abs() < 1e-12);
        assert!((r.metrics["ccc_a"] - 1.0).abs() < 1e-12);
        assert_eq!(r.metrics["pcc_b"], 0.0);
        assert!((r.metrics["acc_b"] - 0.5).abs() < 1e-12);
        assert!((r.metrics["ccc"] - 0.5).abs() < 1e-12);
        assert!((r.metrics["acc"] - 0.75).abs() < 1e-12);
        assert!((r.metrics["mae"] - 0.25).abs() < 1e-12);
        // Squared errors: a 0, 0; b 0.25, 0.25 → per-target MSE 0 and 0.25 → mean 0.125.
        assert!((r.metrics["mse"] - 0.125).abs() < 1e-12);
    }

    #[test]
    fn classification_scores_match_the_confusion_matrix() {
        let names: Vec<String> = ["x", "y"].iter().map(|s| s.to_string()).collect();
        let preds = vec![
            prediction(0.into(), 0.into()),
            prediction(0.into(), 0.into()),
            prediction(1.into(), 0.into()),
        ];
        let r = score_predictions(&scope(), Task::Classification, &names, preds).unwrap();
        assert_eq!(r.confusion, vec![vec![2, 0], vec![1, 0]]);
        assert!((r.metrics["war"] - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.metrics["uar"] - 0.5).abs() < 1e-12);
        assert_eq!(r.per_class_recall, vec![1.0, 0.0]);
    }

    #[test]
    fn malformed_predictions_name_the_video() {
        let names = vec!["a".to_string()];
        let bad = vec![prediction(
            serde_json::json!([1.0, 2.0]),
            serde_json::json!([1.0]),
        )];
        let err = score_predictions(&scope(), Task::Regression, &names, bad).unwrap_err();
        assert!(
            err.to_string().contains("v.mp4") && err.to_string().contains("label"),
            "{err}"
        );
        let out_of_range = vec![prediction(5.into(), 0.into())];
        let err =
            score_predictions(&scope(), Task::Classification, &names, out_of_range).unwrap_err();
        assert!(err.to_string().contains("below 1"), "{err}");
    }
}
