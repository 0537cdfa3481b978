//! Artifact folders of a run: reconstructions (`recon/step-N/`), attention maps
//! (`attn/step-N/`) and evaluations (`eval/<dataset>-<split>.json`).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::SessionError;
use super::error::check_format;
use super::listing::files_with_extension;

pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, SessionError> {
    let text = std::fs::read_to_string(path).map_err(SessionError::io(path))?;
    serde_json::from_str(&text).map_err(|e| SessionError::parse(path, e))
}

pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SessionError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(SessionError::io(dir))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| SessionError::parse(path, e))?;
    super::write_atomic(path, text.as_bytes())
}

/// `recon/step-N/meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconMeta {
    pub format: u32,
    pub step: u64,
    pub mask_ratio: f64,
    pub frames: usize,
    pub samples: Vec<ReconSample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconSample {
    pub index: usize,
    #[serde(default)]
    pub source: String,
    pub mse: f64,
}

/// Which of the three rows of a reconstruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconKind {
    Original,
    Masked,
    Recon,
}

impl ReconKind {
    pub const ALL: [ReconKind; 3] = [ReconKind::Original, ReconKind::Masked, ReconKind::Recon];
    pub fn as_str(self) -> &'static str {
        match self {
            ReconKind::Original => "original",
            ReconKind::Masked => "masked",
            ReconKind::Recon => "recon",
        }
    }
}

impl ReconMeta {
    pub fn read(dir: &Path) -> Result<Self, SessionError> {
        let path = dir.join("meta.json");
        let meta: Self = read_json(&path)?;
        check_format(&path, meta.format)?;
        Ok(meta)
    }
    /// Writes `meta.json` into `dir` (created when missing); PNGs are written by the caller.
    pub fn write(&self, dir: &Path) -> Result<(), SessionError> {
        write_json(&dir.join("meta.json"), self)
    }
    /// `s{index:02}_{original|masked|recon}_{frame:02}.png`.
    pub fn frame_file(dir: &Path, sample: usize, kind: ReconKind, frame: usize) -> PathBuf {
        dir.join(format!("s{sample:02}_{}_{frame:02}.png", kind.as_str()))
    }
}

/// `attn/step-N/meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttnMeta {
    pub format: u32,
    pub step: u64,
    pub maps: Vec<AttnMap>,
    /// PNG of each input frame the maps were computed on (`frame-00.png`, …), in time
    /// order; empty in artifacts written before frames were stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<String>,
}

/// One attention map: self/cross `[heads, Nq, Nk]` for one sample, assignment `[T_i, G, S]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttnMap {
    pub block: usize,
    pub stage: usize,
    /// `self`, `cross`, `assignment`, or `rollout` (attention rollout over the stage-1
    /// blocks, `[1, 1, N]`: one relevance per token).
    pub kind: String,
    #[serde(default)]
    pub heads: usize,
    pub shape: Vec<usize>,
    pub file: String,
    /// `full` or `bottleneck`.
    #[serde(default)]
    pub queries: String,
    /// `[T, H, W]` token grid of the keys (self/cross) or of the positions (assignment).
    #[serde(default)]
    pub grid: Vec<usize>,
}

impl AttnMeta {
    /// The file a step's folder is complete with.
    pub const FILE: &'static str = "meta.json";

    pub fn read(dir: &Path) -> Result<Self, SessionError> {
        let path = dir.join(Self::FILE);
        let meta: Self = read_json(&path)?;
        check_format(&path, meta.format)?;
        Ok(meta)
    }
    pub fn write(&self, dir: &Path) -> Result<(), SessionError> {
        write_json(&dir.join(Self::FILE), self)
    }
}

/// `eval/<dataset>-<split>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub format: u32,
    pub dataset: String,
    pub split: String,
    #[serde(default)]
    pub fold: Option<u32>,
    /// `classification` or `regression`.
    pub task: String,
    /// Classification: `uar`, `war`, `weighted_f1`. Regression: `pcc`, `ccc`, `acc`, `mae`,
    /// `mse` averaged over the targets, and `pcc_<target>`, `ccc_<target>`, `acc_<target>`.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// Class names, or the regression targets in output order.
    #[serde(default)]
    pub class_names: Vec<String>,
    #[serde(default)]
    pub confusion: Vec<Vec<u64>>,
    #[serde(default)]
    pub per_class_recall: Vec<f64>,
    #[serde(default)]
    pub predictions: Vec<Prediction>,
    /// Test videos scored (the metrics are over these).
    #[serde(default)]
    pub videos_scored: usize,
    /// Test videos skipped as unreadable (not in the metrics).
    #[serde(default)]
    pub videos_skipped: usize,
}

/// One test video: `label`/`pred` are class indices (classification, with the averaged
/// softmax in `probs`) or arrays with one number per target (regression).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub path: String,
    pub label: serde_json::Value,
    pub pred: serde_json::Value,
    #[serde(default)]
    pub probs: Vec<f64>,
}

impl EvalReport {
    pub fn read(path: &Path) -> Result<Self, SessionError> {
        let report: Self = read_json(path)?;
        check_format(path, report.format)?;
        Ok(report)
    }
    pub fn write(&self, path: &Path) -> Result<(), SessionError> {
        write_json(path, self)
    }
}

/// `cv/<cv-id>/cv.json`: a cross-validation's folds and its scores (DESIGN §6: metrics
/// pooled over all folds; the per-fold mean ± std beside them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    pub format: u32,
    pub dataset: String,
    /// `classification` or `regression`.
    pub task: String,
    pub folds: Vec<CvFold>,
    /// Metrics of the union of all folds' test predictions.
    pub pooled: std::collections::BTreeMap<String, f64>,
    /// Mean over folds of each metric every fold has.
    pub fold_mean: std::collections::BTreeMap<String, f64>,
    /// Population standard deviation over folds (numpy's default, ddof = 0).
    pub fold_std: std::collections::BTreeMap<String, f64>,
}

/// One fold of a cross-validation: its run and the metrics of its own test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvFold {
    pub fold: u32,
    /// Run id (folder name under `runs/`).
    pub run: String,
    pub videos: usize,
    pub metrics: std::collections::BTreeMap<String, f64>,
}

impl CvSummary {
    pub fn read(path: &Path) -> Result<Self, SessionError> {
        let summary: Self = read_json(path)?;
        check_format(path, summary.format)?;
        Ok(summary)
    }
    pub fn write(&self, path: &Path) -> Result<(), SessionError> {
        write_json(path, self)
    }
}

/// Every `eval/*.json` of a run, sorted by file name; unreadable ones are returned as errors.
pub fn read_evals(eval_dir: &Path) -> Vec<Result<EvalReport, SessionError>> {
    files_with_extension(eval_dir, "json")
        .iter()
        .map(|p| EvalReport::read(p))
        .collect()
}
