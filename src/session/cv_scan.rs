//! Reads the cross-validations of a session (`cv/<cv-id>/`): `cv.json` with the folds, their
//! metrics and mean ± std, and the pooled evaluation (its confusion matrix) when present.

use std::path::PathBuf;

use super::layout::CvDir;
use super::scan::ScanCache;
use super::{CvSummary, EvalReport};

/// One cross-validation as the workbench shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CvResult {
    /// Folder name under `cv/`.
    pub id: String,
    pub root: PathBuf,
    /// `cv.json`, or `None` with the reason in `problem`.
    pub summary: Option<CvSummary>,
    /// `eval/<dataset>-cv.json`: the metrics of all folds' predictions together.
    pub pooled: Option<EvalReport>,
    pub problem: Option<String>,
}

/// Reads `cv` (the pooled evaluation through `cache`, parsed again only when it changed).
pub fn read_cv(cv: &CvDir, cache: &mut ScanCache) -> CvResult {
    let id = cv
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (summary, problem) = match CvSummary::read(&cv.cv_json()) {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let pooled = summary
        .as_ref()
        .and_then(|s| cache.eval(&cv.eval_file(&s.dataset)).ok());
    CvResult {
        id,
        root: cv.root.clone(),
        summary,
        pooled,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_cv_folder_reads_with_its_pooled_evaluation_and_a_broken_one_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let cv = CvDir::new(dir.path().join("cv-20261202-010203-dfew"));
        std::fs::create_dir_all(cv.root.join("eval")).unwrap();
        let metrics: BTreeMap<String, f64> = [("uar".to_string(), 0.61)].into();
        let summary = CvSummary {
            format: 1,
            dataset: "dfew".into(),
            task: "classification".into(),
            folds: vec![],
            pooled: metrics.clone(),
            fold_mean: metrics.clone(),
            fold_std: BTreeMap::new(),
        };
        summary.write(&cv.cv_json()).unwrap();
        let report = EvalReport {
            format: 1,
            dataset: "dfew".into(),
            split: "cv".into(),
            fold: None,
            task: "classification".into(),
            metrics,
            class_names: vec![],
            confusion: vec![vec![1]],
            per_class_recall: vec![],
            predictions: vec![],
            videos_scored: 1,
            videos_skipped: 0,
        };
        report.write(&cv.eval_file("dfew")).unwrap();
        let mut cache = ScanCache::default();
        let r = read_cv(&cv, &mut cache);
        assert_eq!(r.id, "cv-20261202-010203-dfew");
        assert_eq!(r.summary, Some(summary));
        assert_eq!(r.pooled, Some(report));
        std::fs::write(cv.cv_json(), "{").unwrap();
        let r = read_cv(&cv, &mut cache);
        assert!(r.summary.is_none());
        assert!(r.problem.unwrap().contains("cv.json"));
    }
}
