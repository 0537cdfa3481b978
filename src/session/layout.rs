//! Paths of a session and of its runs.

use std::path::{Path, PathBuf};

use super::inspection::InspectionDir;
use super::listing::visible_subfolders;

/// `sessions/<session>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDir {
    pub root: PathBuf,
}

impl SessionDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn session_toml(&self) -> PathBuf {
        self.root.join("session.toml")
    }
    pub fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }
    pub fn exports(&self) -> PathBuf {
        self.root.join("exports")
    }
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
    /// The session's own run configs, offered by the launch dialog (the demo writes its
    /// configs here too).
    pub fn configs(&self) -> PathBuf {
        self.root.join("configs")
    }
    /// Edited configs written by the launch dialog before they are handed to `launch`.
    pub fn launch_configs(&self) -> PathBuf {
        self.root.join("launch")
    }
    /// Cross-validation results (`svfap-tui cv`), one folder per pooling.
    pub fn cv(&self) -> PathBuf {
        self.root.join("cv")
    }
    /// Videos inspected from the workbench (`infer --inspect`), one folder each.
    pub fn inspect(&self) -> PathBuf {
        self.root.join("inspect")
    }
    /// Every inspection folder under `inspect/`, sorted by name.
    pub fn list_inspections(&self) -> Vec<InspectionDir> {
        visible_subfolders(&self.inspect())
            .into_iter()
            .map(InspectionDir::new)
            .collect()
    }
    pub fn run(&self, id: &str) -> RunDir {
        RunDir::new(self.runs().join(id))
    }
    /// Every cross-validation folder under `cv/`, sorted by id.
    pub fn list_cvs(&self) -> Vec<CvDir> {
        visible_subfolders(&self.cv())
            .into_iter()
            .map(CvDir::new)
            .collect()
    }
    /// Every run folder under `runs/`, sorted by id (ids start with kind and time).
    pub fn list_runs(&self) -> Vec<RunDir> {
        let mut out: Vec<RunDir> = visible_subfolders(&self.runs())
            .into_iter()
            .map(RunDir::new)
            .collect();
        out.sort_by_key(|a| a.id());
        out
    }
}

/// `sessions/<session>/runs/<run-id>/`, run-id = `<kind>-<yyyymmdd-hhmmss>-<short-name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn id(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
    pub fn run_toml(&self) -> PathBuf {
        self.root.join("run.toml")
    }
    pub fn status_json(&self) -> PathBuf {
        self.root.join("status.json")
    }
    pub fn metrics_jsonl(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
    pub fn log_txt(&self) -> PathBuf {
        self.root.join("log.txt")
    }
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }
    /// `checkpoints/step-000500.safetensors`.
    pub fn checkpoint(&self, step: u64) -> PathBuf {
        self.checkpoints()
            .join(format!("{}.safetensors", step_dir_name(step)))
    }
    /// `checkpoints/latest`: a text file naming the latest complete checkpoint.
    pub fn latest_pointer(&self) -> PathBuf {
        self.checkpoints().join("latest")
    }
    pub fn recon(&self) -> PathBuf {
        self.root.join("recon")
    }
    pub fn recon_step(&self, step: u64) -> PathBuf {
        self.recon().join(step_dir_name(step))
    }
    pub fn attn(&self) -> PathBuf {
        self.root.join("attn")
    }
    pub fn attn_step(&self, step: u64) -> PathBuf {
        self.attn().join(step_dir_name(step))
    }
    pub fn eval(&self) -> PathBuf {
        self.root.join("eval")
    }
    /// `eval/<dataset>-<split>.json`.
    pub fn eval_file(&self, dataset: &str, split: &str) -> PathBuf {
        self.eval().join(format!("{dataset}-{split}.json"))
    }
    pub fn exists(&self) -> bool {
        self.root.is_dir()
    }

    /// Creates the run folder with `checkpoints/` (idempotent).
    pub fn create(&self) -> Result<(), super::SessionError> {
        std::fs::create_dir_all(self.checkpoints()).map_err(super::SessionError::io(&self.root))
    }

    /// Points `checkpoints/latest` at `file` (e.g. `step-000500.safetensors`), atomically;
    /// call it after the checkpoint itself is completely written.
    pub fn write_latest(&self, file: &str) -> Result<(), super::SessionError> {
        super::write_atomic(&self.latest_pointer(), format!("{file}\n").as_bytes())
    }

    /// The model file named by `checkpoints/latest`, if any (the worker writes the stem,
    /// `step-000500`; older sessions the file name).
    pub fn read_latest(&self) -> Option<PathBuf> {
        let name = std::fs::read_to_string(self.latest_pointer()).ok()?;
        let name = name.trim();
        let file = if name.ends_with(".safetensors") {
            name.to_string()
        } else {
            format!("{name}.safetensors")
        };
        (!name.is_empty()).then(|| self.checkpoints().join(file))
    }
}

/// `sessions/<session>/cv/<cv-id>/`, cv-id = `cv-<yyyymmdd-hhmmss>-<short-name>`: the pooled
/// result of one cross-validation's fold runs (which live under `runs/` as usual).
/// DESIGN §3 has no place for results spanning runs, so they sit beside `runs/`:
/// `cv.json` ([`super::CvSummary`]: runs, per-fold metrics, mean ± std, pooled metrics) and
/// `eval/<dataset>-cv.json` (an [`super::EvalReport`] of all folds' predictions together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvDir {
    pub root: PathBuf,
}

impl CvDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn cv_json(&self) -> PathBuf {
        self.root.join("cv.json")
    }
    /// `eval/<dataset>-cv.json`.
    pub fn eval_file(&self, dataset: &str) -> PathBuf {
        self.root.join("eval").join(format!("{dataset}-cv.json"))
    }
}

/// `step-000500`.
pub fn step_dir_name(step: u64) -> String {
    format!("step-{step:06}")
}

/// Parses `step-000500` (with or without an extension) into 500.
pub fn parse_step_name(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("step-")?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Sorted steps of the `step-NNNNNN` folders under `dir` (recon/ or attn/).
pub fn list_step_dirs(dir: &Path) -> Vec<u64> {
    let mut steps: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| parse_step_name(&e.file_name().to_string_lossy()))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    steps
}

/// A new run id: `<kind>-<yyyymmdd-hhmmss>-<short-name>` (UTC), the name reduced to
/// lowercase letters, digits and dashes.
pub fn new_run_id(kind: &str, name: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    format!("{kind}-{stamp}-{}", short_name(name))
}

/// Lowercase letters, digits and single dashes; at most 32 characters; never empty.
pub fn short_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(32).collect();
    if out.is_empty() { "run".into() } else { out }
}

/// Splits a run id into (kind, stamp, short name) when it follows the pattern.
pub fn split_run_id(id: &str) -> Option<(&str, &str, &str)> {
    let (kind, rest) = id.split_once('-')?;
    if rest.len() < 16 || !rest.is_char_boundary(15) {
        return None;
    }
    let (stamp, name) = rest.split_at(15);
    let name = name.strip_prefix('-')?;
    let ok = stamp.as_bytes()[8] == b'-'
        && stamp
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 8 || b.is_ascii_digit());
    ok.then_some((kind, stamp, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_pointer_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path().join("pretrain-20260101-000000-x"));
        run.create().unwrap();
        assert_eq!(run.read_latest(), None);
        run.write_latest("step-000500.safetensors").unwrap();
        assert_eq!(run.read_latest(), Some(run.checkpoint(500)));
        run.write_latest("step-000600").unwrap();
        assert_eq!(run.read_latest(), Some(run.checkpoint(600)));
    }

    #[test]
    fn run_ids_follow_the_pattern() {
        let id = new_run_id("pretrain", "Demo Run!");
        let (kind, stamp, name) = split_run_id(&id).unwrap();
        assert_eq!(kind, "pretrain");
        assert_eq!(stamp.len(), 15);
        assert_eq!(name, "demo-run");
        assert_eq!(parse_step_name("step-000500.safetensors"), Some(500));
        assert_eq!(step_dir_name(500), "step-000500");
    }
}
