//! Validation of a run config (`RunConfig::validate`): every number in its documented range
//! (README, "Run configs"), names that become path components reduced to one safe
//! component, and the combinations a backend or a task cannot run. Runs before anything is
//! created; each error names the key.

use std::path::Path;

use super::run_config::{FORMAT, RunConfig, RunConfigError, RunKind};
use crate::data::registry::{Task, dataset};
use crate::model::HeadActivation;
use crate::model::preset;

/// A number's valid range: inclusive or exclusive ends; NaN is outside every range.
#[derive(Debug, Clone, Copy)]
struct Range {
    low: f64,
    low_open: bool,
    high: f64,
    high_open: bool,
}

impl Range {
    const fn closed(low: f64, high: f64) -> Self {
        Self {
            low,
            low_open: false,
            high,
            high_open: false,
        }
    }
    const fn open_low(low: f64, high: f64) -> Self {
        Self {
            low,
            low_open: true,
            high,
            high_open: false,
        }
    }
    const fn open_high(low: f64, high: f64) -> Self {
        Self {
            low,
            low_open: false,
            high,
            high_open: true,
        }
    }
    fn contains(&self, x: f64) -> bool {
        let above = if self.low_open {
            x > self.low
        } else {
            x >= self.low
        };
        let below = if self.high_open {
            x < self.high
        } else {
            x <= self.high
        };
        above && below
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let num = |x: f64| {
            if x == f64::INFINITY {
                "∞".to_string()
            } else {
                format!("{x}")
            }
        };
        write!(
            f,
            "{}{}, {}{}",
            if self.low_open { "(" } else { "[" },
            num(self.low),
            num(self.high),
            if self.high_open { ")" } else { "]" }
        )
    }
}

const INF: f64 = f64::INFINITY;

/// Every bounded number of a run config: (key, value, range). Counts are bounded too, so a
/// typo cannot ask for 100 000 threads or a 30 GB batch.
fn ranges(c: &RunConfig) -> Vec<(&'static str, f64, Range)> {
    let (o, d, a, m) = (&c.optim, &c.data, &c.artifacts, &c.model);
    let epochs_low = if c.kind == RunKind::Eval { 0.0 } else { 1.0 };
    vec![
        ("model.drop_path", m.drop_path, Range::open_high(0.0, 1.0)),
        ("data.stride", d.stride as f64, Range::closed(1.0, 32.0)),
        (
            "data.test_clips",
            d.test_clips as f64,
            Range::closed(1.0, 32.0),
        ),
        ("data.workers", d.workers as f64, Range::closed(1.0, 256.0)),
        (
            "data.train_short_side",
            d.train_short_side as f64,
            Range::closed(0.0, 4096.0),
        ),
        (
            "data.max_unreadable",
            d.max_unreadable,
            Range::closed(0.0, 1.0),
        ),
        (
            "optim.batch_size",
            o.batch_size as f64,
            Range::closed(1.0, 65536.0),
        ),
        (
            "optim.accumulation",
            o.accumulation as f64,
            Range::closed(1.0, 4096.0),
        ),
        (
            "optim.epochs",
            o.epochs as f64,
            Range::closed(epochs_low, 100_000.0),
        ),
        ("optim.base_lr", o.base_lr, Range::open_low(0.0, 10.0)),
        ("optim.min_lr", o.min_lr, Range::closed(0.0, 10.0)),
        ("optim.warmup_lr", o.warmup_lr, Range::closed(0.0, 10.0)),
        (
            "optim.weight_decay",
            o.weight_decay,
            Range::closed(0.0, 10.0),
        ),
        ("optim.betas", o.betas[0], Range::open_high(0.0, 1.0)),
        ("optim.betas", o.betas[1], Range::open_high(0.0, 1.0)),
        (
            "optim.layer_decay",
            o.layer_decay,
            Range::open_low(0.0, 1.0),
        ),
        ("optim.clip_grad", o.clip_grad, Range::open_high(0.0, INF)),
        (
            "optim.label_smoothing",
            o.label_smoothing,
            Range::open_high(0.0, 1.0),
        ),
        ("optim.mixup", o.mixup, Range::closed(0.0, 100.0)),
        ("optim.cutmix", o.cutmix, Range::closed(0.0, 100.0)),
        (
            "artifacts.checkpoint_every",
            a.checkpoint_every as f64,
            Range::closed(1.0, 1e12),
        ),
        (
            "artifacts.keep_last",
            a.keep_last as f64,
            Range::closed(1.0, 10_000.0),
        ),
        (
            "artifacts.recon_samples",
            a.recon_samples as f64,
            Range::closed(0.0, 64.0),
        ),
    ]
}

fn check_ranges(c: &RunConfig) -> Result<(), (&'static str, String)> {
    for (key, value, range) in ranges(c) {
        if !range.contains(value) {
            return Err((key, format!("{value} is outside its range {range}")));
        }
    }
    for &d in &c.devices {
        if d > 1023 {
            return Err(("devices", format!("{d} is not a device index (0–1023)")));
        }
    }
    Ok(())
}

/// `name` as one path component the session can safely create: letters, digits, `.`, `-`,
/// `_`, not starting with `.` or `-`, at most 64 bytes. Dataset and run names end up in file
/// names (`eval/<dataset>-test.json`), so `../x` or `/x` must never get that far.
pub fn safe_component(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` must be one name of letters, digits, `.`, `-` and `_` (not a path; at most 64 characters)"
        ))
    }
}

impl RunConfig {
    pub(super) fn validate(&self, path: &Path) -> Result<(), RunConfigError> {
        let invalid = |key: &str, reason: String| RunConfigError::Invalid {
            path: path.to_path_buf(),
            line: None,
            key: key.into(),
            reason,
        };
        if self.format != FORMAT {
            return Err(invalid(
                "format",
                format!(
                    "{} is not supported (this build reads format {FORMAT})",
                    self.format
                ),
            ));
        }
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "name",
                format!("`{}`: use letters, digits, - and _", self.name),
            ));
        }
        preset(&self.model.preset).map_err(|e| invalid("model.preset", e))?;
        match self.kind {
            RunKind::Pretrain => self.pretrainer_config().validate(),
            RunKind::Finetune | RunKind::Eval => self.classifier_config(1).validate(),
        }
        .map_err(|e| invalid(&format!("model.{}", e.field), e.reason))?;
        let o = &self.optim;
        check_ranges(self).map_err(|(key, reason)| invalid(key, reason))?;
        if let Err(reason) = safe_component(&self.data.dataset) {
            return Err(invalid("data.dataset", reason));
        }
        if self.devices.is_empty() {
            return Err(invalid("devices", "lists no device".into()));
        }
        let mut distinct = self.devices.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < self.devices.len() {
            return Err(invalid("devices", "names a GPU twice".into()));
        }
        if self.devices.len() > 1 && !cfg!(feature = "mpi") {
            return Err(invalid(
                "devices",
                format!(
                    "lists {} devices: several devices run one process each under MPI, and this svfap-tui was built without MPI (cargo feature `mpi`)",
                    self.devices.len()
                ),
            ));
        }
        if let Some(reason) = self.precision().unsupported_on(self.backend) {
            return Err(invalid("optim.precision", reason));
        }
        if o.warmup_epochs > o.epochs {
            return Err(invalid(
                "optim.warmup_epochs",
                format!("{} exceeds epochs {}", o.warmup_epochs, o.epochs),
            ));
        }
        self.validate_task_options()
            .map_err(|(key, reason)| invalid(key, reason))?;
        Ok(())
    }

    /// Options that only make sense for the dataset's task (DESIGN §6): mixup, CutMix and
    /// label smoothing act on class targets, and DESIGN gives regression plain MSE; a head
    /// activation would squash the logits a classifier feeds to softmax.
    fn validate_task_options(&self) -> Result<(), (&'static str, String)> {
        let Some(info) = dataset(&self.data.dataset) else {
            return Ok(());
        };
        let o = &self.optim;
        match (self.kind, info.task) {
            (RunKind::Pretrain, _) => Ok(()),
            (RunKind::Finetune, Task::Regression) => {
                for (key, value) in [
                    ("optim.mixup", o.mixup),
                    ("optim.cutmix", o.cutmix),
                    ("optim.label_smoothing", o.label_smoothing),
                ] {
                    if value != 0.0 {
                        return Err((
                            key,
                            format!(
                                "{value}: {} is a regression dataset (MSE loss); set it to 0",
                                info.name
                            ),
                        ));
                    }
                }
                Ok(())
            }
            (_, Task::Classification) if self.model.head_activation != HeadActivation::None => {
                Err((
                    "model.head_activation",
                    format!(
                        "{}: a head activation is for regression, and {} is a classification dataset (softmax over logits)",
                        toml::Value::try_from(self.model.head_activation)
                            .map(|v| v.to_string())
                            .unwrap_or_default(),
                        info.name
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}
