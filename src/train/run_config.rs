//! `run.toml`: the frozen configuration of one run (DESIGN §3). Parsed strictly (unknown
//! keys refused), overridable with `--set dotted.key=value`, validated before a run starts
//! with the key and the reason.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::precision::Precision;
use crate::model::{
    ClassifierConfig, HeadActivation, PretrainerConfig, ReconstructionTarget, preset,
};

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Pretrain,
    Finetune,
    Eval,
}

pub use crate::backend::BackendChoice;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub format: u32,
    pub kind: RunKind,
    /// Short name, part of the run id.
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub backend: BackendChoice,
    /// Device indices, one process each (data-parallel under MPI when several; with
    /// `backend = "cpu"` each entry is one more CPU process).
    #[serde(default = "default_devices")]
    pub devices: Vec<usize>,
    /// Seconds a rank waits for the others at a gradient exchange before the job is ended
    /// (a hung or lost rank); several processes only.
    #[serde(default = "default_collective_timeout")]
    pub collective_timeout: u64,
    pub model: ModelSection,
    pub data: DataSection,
    pub optim: OptimSection,
    #[serde(default)]
    pub artifacts: ArtifactSection,
}

fn default_devices() -> Vec<usize> {
    vec![0]
}

fn default_collective_timeout() -> u64 {
    600
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// base, small, demo, test.
    pub preset: String,
    /// Pre-training: share of positions masked per slice (paper: 0.9).
    #[serde(default = "default_mask_ratio")]
    pub mask_ratio: f64,
    /// Multi-scale fusion (paper Table 4): on for pre-training by default, off for fine-tuning.
    pub fuse_multiscale: Option<bool>,
    #[serde(default)]
    pub target: ReconstructionTarget,
    /// Stochastic depth of the last block (fine-tuning: 0.1).
    #[serde(default)]
    pub drop_path: f64,
    #[serde(default)]
    pub head_activation: HeadActivation,
    /// Fine-tuning/eval: checkpoint to start from (ours or a released .pth); empty = scratch.
    #[serde(default)]
    pub init: String,
}

fn default_mask_ratio() -> f64 {
    0.9
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Registry name (classes, task, metrics): dfew, ferv39k, mafw, …, demo.
    pub dataset: String,
    /// Folder the manifest paths are relative to (relative to the config file's folder).
    #[serde(default)]
    pub root: String,
    /// Training manifest (`<path> <label>` per line).
    #[serde(default)]
    pub train: String,
    /// Test manifest.
    #[serde(default)]
    pub test: String,
    /// Absolute path prefix in the manifests to replace by `root` (the released split files
    /// name the authors' machine).
    #[serde(default)]
    pub strip_prefix: String,
    #[serde(default)]
    pub fold: Option<u32>,
    /// Frame stride of the sampled clips (paper: 4).
    #[serde(default = "default_stride")]
    pub stride: usize,
    /// Test clips per video, softmax averaged (paper: 2).
    #[serde(default = "default_test_clips")]
    pub test_clips: usize,
    /// Decoding threads (1–256).
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Augmentation. `paper`: fine-tuning with RandAugment m7 n4, random resized crop with
    /// scale 0.08–1, flip, random erasing 0.25; pre-training with the multi-scale crop
    /// {1, .875, .75, .66}. `light` (small synthetic sets): fine-tuning crop scale 0.8–1 and
    /// flip only; pre-training on the whole frame. `none`: whole frames, no flip.
    #[serde(default)]
    pub augment: Augment,
    /// The largest share of a manifest's clips that may be unreadable (skipped) before the
    /// run fails with their list; 0–1.
    #[serde(default = "default_max_unreadable")]
    pub max_unreadable: f64,
    /// A frame pack (`svfap-tui data pack`) of the manifests' videos, relative to `root`:
    /// the loader copies their decoded frames instead of decoding them each epoch.
    #[serde(default)]
    pub pack: String,
    /// Training views decode frames with the shorter side scaled to this (0: the stored
    /// size, the released code's way); a pack made with `--short-side N` needs N here.
    #[serde(default)]
    pub train_short_side: usize,
}

fn default_max_unreadable() -> f64 {
    0.05
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Augment {
    #[default]
    Paper,
    Light,
    None,
}

fn default_stride() -> usize {
    4
}
fn default_test_clips() -> usize {
    2
}
fn default_workers() -> usize {
    2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimSection {
    pub batch_size: usize,
    /// Micro-batches summed per update by each process (effective batch = batch_size ×
    /// processes × accumulation).
    #[serde(default = "one")]
    pub accumulation: usize,
    pub epochs: usize,
    #[serde(default)]
    pub warmup_epochs: usize,
    /// Learning rate per 256 clips of effective batch (paper: 3e-4 pre-train, 1e-3 fine-tune).
    pub base_lr: f64,
    #[serde(default = "default_min_lr")]
    pub min_lr: f64,
    #[serde(default = "default_warmup_lr")]
    pub warmup_lr: f64,
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    pub betas: [f64; 2],
    /// Layer-wise lr decay for fine-tuning (paper: 0.75); 1 = off.
    #[serde(default = "one_f")]
    pub layer_decay: f64,
    /// Gradient clipping by global norm; 0 = off.
    #[serde(default)]
    pub clip_grad: f64,
    #[serde(default)]
    pub label_smoothing: f64,
    /// Mixup alpha (paper fine-tuning: 0.8); 0 = off.
    #[serde(default)]
    pub mixup: f64,
    /// CutMix alpha (paper fine-tuning: 1.0); 0 = off.
    #[serde(default)]
    pub cutmix: f64,
    /// Type of the matrix products: "f32", "bf16" or "f16" (mixed precision: weights,
    /// gradients and optimiser state stay f32). Absent: bf16 on cuda, f32 elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
}

fn one() -> usize {
    1
}
fn one_f() -> f64 {
    1.0
}
fn default_min_lr() -> f64 {
    1e-6
}
fn default_warmup_lr() -> f64 {
    1e-6
}
fn default_weight_decay() -> f64 {
    0.05
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArtifactSection {
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Checkpoints kept (older ones deleted).
    pub keep_last: usize,
    /// Steps between reconstruction samples (pre-training); 0 = never.
    pub recon_every: u64,
    /// Steps between attention maps; 0 = never.
    pub attn_every: u64,
    /// Held-out clips shown in reconstructions.
    pub recon_samples: usize,
    /// Fine-tuning: epochs between test-set evaluations; the last epoch is always evaluated
    /// (0 = only the last).
    pub eval_every: u64,
}

impl Default for ArtifactSection {
    fn default() -> Self {
        Self {
            checkpoint_every: 100,
            keep_last: 3,
            recon_every: 100,
            attn_every: 100,
            recon_samples: 4,
            eval_every: 1,
        }
    }
}

/// A config that cannot run, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum RunConfigError {
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{}{}: `{key}`: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        /// Where the key is written, when it is (not a default or a `--set`).
        line: Option<usize>,
        key: String,
        reason: String,
    },
    #[error("--set {assignment}: {reason}")]
    Override { assignment: String, reason: String },
}

impl RunConfig {
    /// Reads `path`, applies `overrides` (`dotted.key=value`, value parsed as TOML, bare
    /// words as strings), and validates.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, RunConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(&text, path, overrides)
    }

    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Self, RunConfigError> {
        let parse_err = |message: String| RunConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let mut value: toml::Table = toml::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        for assignment in overrides {
            apply_override(&mut value, assignment)?;
        }
        let set_by_flag = |key: &str| {
            overrides
                .iter()
                .any(|o| o.split_once('=').is_some_and(|(k, _)| k.trim() == key))
        };
        let located = |key: &str| {
            (!set_by_flag(key))
                .then(|| super::config_locations::key_line(text, key))
                .flatten()
        };
        let config: RunConfig = serde_path_to_error::deserialize(toml::Value::Table(value))
            .map_err(|e| {
                let key = e.path().to_string();
                let message = e.inner().message().to_string();
                if key == "." || key.is_empty() {
                    return parse_err(message);
                }
                let place = match located(&key) {
                    Some(line) => format!("line {line}: "),
                    None if set_by_flag(&key) => "--set: ".to_string(),
                    None => String::new(),
                };
                parse_err(format!("{place}`{key}`: {message}"))
            })?;
        config.validate(path).map_err(|e| match e {
            RunConfigError::Invalid {
                path, key, reason, ..
            } => RunConfigError::Invalid {
                line: located(&key),
                path,
                key,
                reason,
            },
            other => other,
        })?;
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("run configs serialise")
    }

    /// The pre-trainer this config trains.
    pub fn pretrainer_config(&self) -> PretrainerConfig {
        let p = preset(&self.model.preset).expect("validated preset");
        PretrainerConfig {
            encoder: p.encoder,
            decoder: p.decoder,
            mask_ratio: self.model.mask_ratio,
            fuse_multiscale: self.model.fuse_multiscale.unwrap_or(true),
            target: self.model.target,
        }
    }

    /// The classifier this config fine-tunes or evaluates, with `num_outputs` outputs.
    pub fn classifier_config(&self, num_outputs: usize) -> ClassifierConfig {
        let p = preset(&self.model.preset).expect("validated preset");
        let mut encoder = p.encoder;
        encoder.drop_path = self.model.drop_path;
        ClassifierConfig {
            encoder,
            num_outputs,
            head_activation: self.model.head_activation,
            fuse_multiscale: self.model.fuse_multiscale.unwrap_or(false),
        }
    }

    /// The precision the run computes in (`optim.precision`, else the backend's default).
    pub fn precision(&self) -> Precision {
        self.optim
            .precision
            .unwrap_or_else(|| Precision::default_for(self.backend))
    }

    /// Clips per optimiser update: batch_size × processes × accumulation, with one process
    /// per listed device (`batch_size` is per process, as in VideoMAE and torch DDP).
    pub fn effective_batch(&self) -> usize {
        self.effective_batch_on(self.devices.len())
    }

    /// Clips per optimiser update on `processes` ranks.
    pub fn effective_batch_on(&self, processes: usize) -> usize {
        self.optim.batch_size * processes * self.optim.accumulation
    }

    /// Learning rate for the effective batch: base_lr × batch / 256 (DESIGN §6).
    pub fn peak_lr(&self) -> f64 {
        self.peak_lr_on(self.devices.len())
    }

    /// Learning rate on `processes` ranks (the worker's actual world size).
    pub fn peak_lr_on(&self, processes: usize) -> f64 {
        self.optim.base_lr * self.effective_batch_on(processes) as f64 / 256.0
    }
}

/// `a.b.c=value`: sets a nested key; the value is TOML (`1e-4`, `true`, `[0.9, 0.95]`,
/// `"text"`) or, failing that, a bare string.
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<(), RunConfigError> {
    let err = |reason: &str| RunConfigError::Override {
        assignment: assignment.into(),
        reason: reason.into(),
    };
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| err("expected dotted.key=value"))?;
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(err("empty key segment"));
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {}", raw.trim()))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()));
    let mut node = table;
    for part in &parts[..parts.len() - 1] {
        node = node
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| err(&format!("`{part}` is not a table")))?;
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = r#"
format = 1
kind = "pretrain"
name = "demo"
[model]
preset = "test"
[data]
dataset = "demo"
train = "train.csv"
[optim]
batch_size = 4
epochs = 2
base_lr = 3e-4
betas = [0.9, 0.95]
"#;

    fn parse(text: &str, overrides: &[&str]) -> Result<RunConfig, RunConfigError> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        RunConfig::parse(text, Path::new("run.toml"), &o)
    }

    #[test]
    fn overrides_set_nested_keys_and_are_validated() {
        let c = parse(
            DEMO,
            &["optim.base_lr=1e-4", "model.mask_ratio=0.75", "name=other"],
        )
        .unwrap();
        assert_eq!(c.optim.base_lr, 1e-4);
        assert_eq!(c.model.mask_ratio, 0.75);
        assert_eq!(c.name, "other");
        let err = parse(DEMO, &["model.mask_ratio=1.5"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`model.mask_ratio`"), "{err}");
    }

    #[test]
    fn precision_and_devices_the_backend_cannot_run_are_refused_by_key() {
        for (overrides, key, words) in [
            (
                &["optim.precision=\"bf16\""][..],
                "optim.precision",
                "GPU backend",
            ),
            (
                &["backend=\"wgpu\"", "optim.precision=\"bf16\""][..],
                "optim.precision",
                "wgpu",
            ),
        ] {
            let err = parse(DEMO, overrides).unwrap_err().to_string();
            assert!(
                err.contains(key) && err.contains(words),
                "{overrides:?}: {err}"
            );
        }
        let c = parse(DEMO, &["backend=\"wgpu\"", "optim.precision=\"f16\""]).unwrap();
        assert_eq!(c.precision(), Precision::F16);
        let c = parse(DEMO, &["backend=\"cuda\""]).unwrap();
        assert_eq!(c.precision(), Precision::Bf16);
        assert!(
            !c.to_toml().contains("precision"),
            "the default is not frozen in"
        );
    }

    #[test]
    fn errors_name_the_line_and_the_dotted_key() {
        let text = DEMO.replace("batch_size = 4", "batch_size = \"eight\"");
        let err = parse(&text, &[]).unwrap_err().to_string();
        assert!(
            err.contains("run.toml: line 11: `optim.batch_size`") && err.contains("\"eight\""),
            "{err}"
        );
        let err = parse(DEMO, &["optim.epochs=\"two\""])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--set: `optim.epochs`"), "{err}");
        let text = DEMO.replace("epochs = 2", "epochs = 2\nmin_lr = -1.0");
        let err = parse(&text, &[]).unwrap_err().to_string();
        assert!(err.starts_with("run.toml:13: `optim.min_lr`"), "{err}");
        let err = parse(DEMO, &["optim.min_lr=-1.0"]).unwrap_err().to_string();
        assert!(
            err.starts_with("run.toml: `optim.min_lr`: -1 is outside"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_naming_them() {
        let err = parse(DEMO, &["optim.lrr=1"]).unwrap_err().to_string();
        assert!(err.contains("run.toml") && err.contains("lrr"), "{err}");
    }

    #[test]
    fn impossible_settings_name_the_key() {
        let err = parse(DEMO, &["model.preset=huge"]).unwrap_err().to_string();
        assert!(
            err.contains("`model.preset`") && err.contains("huge"),
            "{err}"
        );
        let err = parse(DEMO, &["devices=[]"]).unwrap_err().to_string();
        assert!(
            err.contains("`devices`") && err.contains("lists no device"),
            "{err}"
        );
        // Several devices are several processes: MPI's to start, whatever the backend.
        let several = parse(DEMO, &["devices=[0, 1, 2]"]);
        if cfg!(feature = "mpi") {
            assert_eq!(several.unwrap().effective_batch(), 3 * 4);
        } else {
            let err = several.unwrap_err().to_string();
            assert!(
                err.contains("`devices`") && err.contains("feature `mpi`"),
                "{err}"
            );
        }
        let err = parse(DEMO, &["backend=cuda", "devices=[1, 1]"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("names a GPU twice"), "{err}");
        let err = parse(DEMO, &["optim.warmup_epochs=5"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`optim.warmup_epochs`"), "{err}");
    }

    #[test]
    fn options_of_the_other_task_are_refused_naming_the_key() {
        let fine = |dataset: &str, set: &[&str]| {
            let dataset = format!("data.dataset={dataset}");
            let mut o = vec!["kind=finetune", "data.test=test.csv", &dataset];
            o.extend_from_slice(set);
            parse(DEMO, &o)
        };
        for key in ["optim.mixup", "optim.cutmix", "optim.label_smoothing"] {
            let err = fine("chalearn_fi", &[&format!("{key}=0.1")])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("`{key}`")) && err.contains("regression"),
                "{err}"
            );
        }
        let err = fine("dfew", &["model.head_activation=sigmoid"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`model.head_activation`") && err.contains("\"sigmoid\""),
            "{err}"
        );
        fine("werewolf-xl", &["model.head_activation=tanh"]).unwrap();
        fine("dfew", &["optim.mixup=0.8", "optim.label_smoothing=0.1"]).unwrap();
    }

    #[test]
    fn round_trips_through_toml() {
        let c = parse(DEMO, &[]).unwrap();
        let again = RunConfig::parse(&c.to_toml(), Path::new("x"), &[]).unwrap();
        assert_eq!(c, again);
        assert!((c.peak_lr() - 3e-4 * 4.0 / 256.0).abs() < 1e-15);
    }
}

#[cfg(test)]
mod asset_tests {
    use super::*;

    #[test]
    fn every_example_config_in_assets_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let is_run_config = std::fs::read_to_string(&path)
                .is_ok_and(|t| t.lines().any(|l| l.starts_with("kind =")));
            if path.extension().is_some_and(|e| e == "toml") && is_run_config {
                RunConfig::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
        assert!(
            seen >= 6,
            "expected the paper recipes and the demo configs, found {seen}"
        );
    }
}
