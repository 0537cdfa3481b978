//! Cross-validation results (DESIGN §6–7: DFEW, MAFW, CREMA-D, … are k-fold and the paper
//! reports metrics "pooled over all folds"): the test predictions of every fold's run are
//! scored together as one set, and each fold's own metrics are summarised as mean ± std.
//! Results go to `cv/<cv-id>/` in the session (see `session::layout::CvDir`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::eval_report::{EvalScope, parse_task, score_predictions};
use super::run_config::RunConfig;
use crate::data::registry::{Task, dataset};
use crate::session::layout::new_run_id;
use crate::session::{CvDir, CvFold, CvSummary, EvalReport, RunDir, SessionDir};

/// One finished fold: its run id and the evaluation of its test set.
#[derive(Debug, Clone)]
pub struct FoldEval {
    pub fold: u32,
    pub run: String,
    pub report: EvalReport,
}

/// The folds of `dataset_name` by the registry's protocol (1..=k), when it has several.
pub fn registry_folds(dataset_name: &str) -> Result<Vec<u32>> {
    let info = dataset(dataset_name).with_context(|| {
        format!("data.dataset = \"{dataset_name}\" is not in the registry: give --folds")
    })?;
    if info.folds < 2 {
        bail!(
            "{} has one fixed split ({}): give --folds to cross-validate anyway",
            info.name,
            info.protocol
        );
    }
    Ok((1..=info.folds as u32).collect())
}

/// Reads a finished fine-tuning or evaluation run: its `data.fold` and
/// `eval/<dataset>-test.json`.
pub fn fold_eval_of_run(run: &RunDir) -> Result<FoldEval> {
    let config = RunConfig::load(&run.run_toml(), &[])
        .with_context(|| format!("{}: not a run folder", run.root.display()))?;
    let fold = config.data.fold.with_context(|| {
        format!(
            "{}: `data.fold` is not set, so this run is no fold of a cross-validation",
            run.run_toml().display()
        )
    })?;
    let path = run.eval_file(&config.data.dataset, "test");
    let report = EvalReport::read(&path)
        .with_context(|| format!("fold {fold}: no test evaluation (has the run finished?)"))?;
    Ok(FoldEval {
        fold,
        run: run.id(),
        report,
    })
}

/// Pools the folds: the report of all test predictions together (`split = "cv"`) and the
/// summary with per-fold metrics, their mean and population std, and the pooled metrics.
pub fn pool_folds(folds: &[FoldEval]) -> Result<(EvalReport, CvSummary)> {
    let Some(first) = folds.first() else {
        bail!("no folds to pool")
    };
    let r0 = &first.report;
    let task: Task = parse_task(&r0.task)?;
    let mut seen = std::collections::BTreeSet::new();
    for f in folds {
        let r = &f.report;
        let differs = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            anyhow::anyhow!(
                "run {} (fold {}) has {what} {b:?}, run {} has {a:?}: these runs are not folds of one cross-validation",
                f.run,
                f.fold,
                first.run
            )
        };
        if r.dataset != r0.dataset {
            return Err(differs("dataset", &r0.dataset, &r.dataset));
        }
        if r.task != r0.task {
            return Err(differs("task", &r0.task, &r.task));
        }
        if r.class_names != r0.class_names {
            return Err(differs("labels", &r0.class_names, &r.class_names));
        }
        if !seen.insert(f.fold) {
            bail!("fold {} appears twice (run {})", f.fold, f.run);
        }
    }
    let scope = EvalScope {
        dataset: r0.dataset.clone(),
        split: "cv".into(),
        fold: None,
    };
    let all = folds
        .iter()
        .flat_map(|f| f.report.predictions.iter().cloned())
        .collect();
    let pooled = score_predictions(&scope, task, &r0.class_names, all)?;
    let (fold_mean, fold_std) = mean_and_std(folds.iter().map(|f| &f.report.metrics));
    let summary = CvSummary {
        format: 1,
        dataset: r0.dataset.clone(),
        task: r0.task.clone(),
        folds: folds
            .iter()
            .map(|f| CvFold {
                fold: f.fold,
                run: f.run.clone(),
                videos: f.report.predictions.len(),
                metrics: f.report.metrics.clone(),
            })
            .collect(),
        pooled: pooled.metrics.clone(),
        fold_mean,
        fold_std,
    };
    Ok((pooled, summary))
}

/// Mean and population standard deviation of each metric present in every fold.
fn mean_and_std<'a>(
    per_fold: impl Iterator<Item = &'a BTreeMap<String, f64>> + Clone,
) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
    let n = per_fold.clone().count() as f64;
    let Some(first) = per_fold.clone().next() else {
        return Default::default();
    };
    let (mut mean, mut std) = (BTreeMap::new(), BTreeMap::new());
    for key in first.keys() {
        let values: Option<Vec<f64>> = per_fold.clone().map(|m| m.get(key).copied()).collect();
        let Some(values) = values else { continue };
        let mu = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n;
        mean.insert(key.clone(), mu);
        std.insert(key.clone(), var.sqrt());
    }
    (mean, std)
}

/// Pools the finished runs `runs` and writes `cv/<cv-id>/` into `session`.
pub fn pool_runs(session: &Path, name: &str, runs: &[RunDir]) -> Result<(CvDir, CvSummary)> {
    let folds = runs
        .iter()
        .map(fold_eval_of_run)
        .collect::<Result<Vec<_>>>()?;
    let (pooled, summary) = pool_folds(&folds)?;
    let cv_root = SessionDir::new(session).cv();
    let mut id = new_run_id("cv", name);
    let mut n = 2;
    while cv_root.join(&id).exists() {
        id = format!("{}-{n}", new_run_id("cv", name));
        n += 1;
    }
    let dir = CvDir::new(cv_root.join(id));
    pooled.write(&dir.eval_file(&summary.dataset))?;
    summary.write(&dir.cv_json())?;
    Ok((dir, summary))
}

/// The metrics a summary line shows: the paper's for the task (DESIGN §6).
fn headline_metrics(task: &str) -> &'static [&'static str] {
    if task == "regression" {
        &["ccc", "pcc", "acc", "mse"]
    } else {
        &["uar", "war", "weighted_f1"]
    }
}

/// One line per fold, the mean ± std over folds, and the pooled metrics.
pub fn describe(summary: &CvSummary) -> String {
    let keys = headline_metrics(&summary.task);
    let values = |m: &BTreeMap<String, f64>| -> String {
        keys.iter()
            .filter_map(|k| m.get(*k).map(|v| format!("{k} {v:.4}")))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = String::new();
    for f in &summary.folds {
        out += &format!(
            "fold {:<2} {:>5} videos  {}  ({})\n",
            f.fold,
            f.videos,
            values(&f.metrics),
            f.run
        );
    }
    let spread: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            Some(format!(
                "{k} {:.4} ± {:.4}",
                summary.fold_mean.get(*k)?,
                summary.fold_std.get(*k)?
            ))
        })
        .collect();
    out += &format!("fold mean ± std        {}\n", spread.join("  "));
    let videos: usize = summary.folds.iter().map(|f| f.videos).sum();
    out += &format!("pooled   {videos:>5} videos  {}\n", values(&summary.pooled));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::artifacts::Prediction;

    fn classification_fold(fold: u32, pairs: &[(u64, u64)]) -> FoldEval {
        let predictions: Vec<Prediction> = pairs
            .iter()
            .enumerate()
            .map(|(i, &(label, pred))| Prediction {
                path: format!("f{fold}/v{i}"),
                label: label.into(),
                pred: pred.into(),
                probs: vec![],
            })
            .collect();
        let scope = EvalScope {
            dataset: "d".into(),
            split: "test".into(),
            fold: Some(fold),
        };
        let names = vec!["a".to_string(), "b".to_string()];
        FoldEval {
            fold,
            run: format!("run{fold}"),
            report: score_predictions(&scope, Task::Classification, &names, predictions).unwrap(),
        }
    }

    #[test]
    fn pooled_metrics_score_the_union_not_the_mean_of_folds() {
        // Fold 1: 4 of class a, all right → UAR 1 (only class a present), WAR 1.
        // Fold 2: 1 of a right, 1 of b wrong → UAR 0.5, WAR 0.5.
        let folds = [
            classification_fold(1, &[(0, 0), (0, 0), (0, 0), (0, 0)]),
            classification_fold(2, &[(0, 0), (1, 0)]),
        ];
        let (pooled, summary) = pool_folds(&folds).unwrap();
        // Union: class a 5/5, class b 0/1 → UAR 0.5; WAR 5/6.
        assert_eq!(pooled.split, "cv");
        assert_eq!(pooled.confusion, vec![vec![5, 0], vec![1, 0]]);
        assert_eq!(pooled.predictions.len(), 6);
        assert!((summary.pooled["uar"] - 0.5).abs() < 1e-12);
        assert!((summary.pooled["war"] - 5.0 / 6.0).abs() < 1e-12);
        // Per-fold WAR 1 and 0.5 → mean 0.75, population std 0.25.
        assert!((summary.fold_mean["war"] - 0.75).abs() < 1e-12);
        assert!((summary.fold_std["war"] - 0.25).abs() < 1e-12);
        assert!((summary.fold_mean["uar"] - 0.75).abs() < 1e-12);
        assert_eq!(summary.folds[1].videos, 2);
        let text = describe(&summary);
        assert!(text.contains("war 0.7500 ± 0.2500"), "{text}");
        assert!(text.contains("pooled       6 videos"), "{text}");
    }

    #[test]
    fn regression_folds_pool_into_one_correlation() {
        let names = vec!["t".to_string()];
        let fold = |k: u32, pairs: &[(f64, f64)]| {
            let predictions = pairs
                .iter()
                .map(|&(label, pred)| Prediction {
                    path: "v".into(),
                    label: serde_json::json!([label]),
                    pred: serde_json::json!([pred]),
                    probs: vec![],
                })
                .collect();
            let scope = EvalScope {
                dataset: "d".into(),
                split: "test".into(),
                fold: Some(k),
            };
            FoldEval {
                fold: k,
                run: format!("r{k}"),
                report: score_predictions(&scope, Task::Regression, &names, predictions).unwrap(),
            }
        };
        // Each fold alone: a constant prediction → PCC 0. Together the predictions follow
        // the labels (0.1 for label 0, 0.9 for label 1) → PCC 1.
        let folds = [
            fold(1, &[(0.0, 0.1), (0.0, 0.1)]),
            fold(2, &[(1.0, 0.9), (1.0, 0.9)]),
        ];
        let (pooled, summary) = pool_folds(&folds).unwrap();
        assert_eq!(pooled.task, "regression");
        assert_eq!(summary.fold_mean["pcc"], 0.0);
        assert!((summary.pooled["pcc"] - 1.0).abs() < 1e-12);
        assert!((summary.pooled["acc"] - 0.9).abs() < 1e-12);
        // Pooled CCC: pred var 0.16, label var 0.25, cov 0.2, equal means → 0.4 / 0.41.
        assert!((summary.pooled["ccc"] - 0.4 / 0.41).abs() < 1e-12);
    }

    #[test]
    fn folds_of_different_cross_validations_are_refused() {
        let mut other = classification_fold(2, &[(0, 0)]);
        other.report.dataset = "e".into();
        let err = pool_folds(&[classification_fold(1, &[(0, 0)]), other])
            .unwrap_err()
            .to_string();
        assert!(err.contains("dataset") && err.contains("run2"), "{err}");
        let twice = [
            classification_fold(1, &[(0, 0)]),
            classification_fold(1, &[(1, 1)]),
        ];
        assert!(
            pool_folds(&twice)
                .unwrap_err()
                .to_string()
                .contains("fold 1 appears twice")
        );
    }
}
