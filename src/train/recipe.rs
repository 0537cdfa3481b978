//! Recipe check: how a run's optimisation recipe differs from the paper's (DESIGN §6) — the
//! effective batch, the peak learning rate it implies (base_lr × effective batch / 256), the
//! schedule and the regularisation — so that a reproduction attempt shows its departures
//! before it is launched and while it runs.
//!
//! Batch sizes are the released scripts': pre-training 4 GPUs × 64 = 256; fine-tuning
//! 4 GPUs × 16 = 64 (`scripts/mafw/finetune_svfap_base.sh`), lr 1e-3 per 256.

use super::run_config::{Augment, RunConfig, RunKind};

/// The paper's recipe for one kind of run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperRecipe {
    pub effective_batch: usize,
    pub base_lr: f64,
    pub epochs: usize,
    pub warmup_epochs: usize,
    pub min_lr: f64,
    pub weight_decay: f64,
    pub betas: [f64; 2],
    /// Fine-tuning only (`None` where the paper's pre-training has no such setting).
    pub layer_decay: Option<f64>,
    pub drop_path: Option<f64>,
    pub label_smoothing: Option<f64>,
    pub mixup: Option<f64>,
    pub cutmix: Option<f64>,
    /// Pre-training only.
    pub mask_ratio: Option<f64>,
}

impl PaperRecipe {
    pub const PRETRAIN: PaperRecipe = PaperRecipe {
        effective_batch: 256,
        base_lr: 3e-4,
        epochs: 100,
        warmup_epochs: 5,
        min_lr: 1e-5,
        weight_decay: 0.05,
        betas: [0.9, 0.95],
        layer_decay: None,
        drop_path: None,
        label_smoothing: None,
        mixup: None,
        cutmix: None,
        mask_ratio: Some(0.9),
    };
    pub const FINETUNE: PaperRecipe = PaperRecipe {
        effective_batch: 64,
        base_lr: 1e-3,
        epochs: 100,
        warmup_epochs: 5,
        min_lr: 1e-6,
        weight_decay: 0.05,
        betas: [0.9, 0.999],
        layer_decay: Some(0.75),
        drop_path: Some(0.1),
        label_smoothing: Some(0.1),
        mixup: Some(0.8),
        cutmix: Some(1.0),
        mask_ratio: None,
    };

    /// The recipe a run of `kind` is compared with; evaluation runs train nothing.
    pub fn for_kind(kind: RunKind) -> Option<&'static PaperRecipe> {
        match kind {
            RunKind::Pretrain => Some(&Self::PRETRAIN),
            RunKind::Finetune => Some(&Self::FINETUNE),
            RunKind::Eval => None,
        }
    }

    pub fn peak_lr(&self) -> f64 {
        self.base_lr * self.effective_batch as f64 / 256.0
    }
}

/// One compared setting: the run's value, the paper's, and whether they agree.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeItem {
    pub name: &'static str,
    pub ours: String,
    pub paper: String,
    pub matches: bool,
}

impl RecipeItem {
    /// `epochs 30 vs 100 ✗`, or `epochs 100 ✓` when they agree.
    pub fn text(&self) -> String {
        if self.matches {
            format!("{} {} ✓", self.name, self.ours)
        } else {
            format!("{} {} vs {} ✗", self.name, self.ours, self.paper)
        }
    }
}

/// The run's recipe against the paper's: the three headline items first (effective batch,
/// peak lr, epochs), then the rest. Empty for evaluation runs.
pub fn check(config: &RunConfig) -> Vec<RecipeItem> {
    let Some(paper) = PaperRecipe::for_kind(config.kind) else {
        return Vec::new();
    };
    let o = &config.optim;
    let mut items = vec![
        RecipeItem {
            name: "effective batch",
            ours: config.effective_batch().to_string(),
            paper: paper.effective_batch.to_string(),
            matches: config.effective_batch() == paper.effective_batch,
        },
        // The linear scaling rule makes the peak lr follow the batch: what must agree is the
        // rate per 256 clips; the peak is shown so that the number in the log is recognised.
        RecipeItem {
            name: "lr",
            ours: format!("{} ({}/256)", lr_text(config.peak_lr()), lr_text(o.base_lr)),
            paper: format!(
                "{} ({}/256)",
                lr_text(paper.peak_lr()),
                lr_text(paper.base_lr)
            ),
            matches: close(o.base_lr, paper.base_lr),
        },
        int_item("epochs", o.epochs, paper.epochs),
        int_item("warm-up epochs", o.warmup_epochs, paper.warmup_epochs),
        float_item("min lr", o.min_lr, paper.min_lr),
        float_item("weight decay", o.weight_decay, paper.weight_decay),
        RecipeItem {
            name: "betas",
            ours: format!("{}/{}", o.betas[0], o.betas[1]),
            paper: format!("{}/{}", paper.betas[0], paper.betas[1]),
            matches: close(o.betas[0], paper.betas[0]) && close(o.betas[1], paper.betas[1]),
        },
        int_item("frame stride", config.data.stride, 4),
        RecipeItem {
            name: "augmentation",
            ours: augment_name(config.data.augment).into(),
            paper: "paper".into(),
            matches: config.data.augment == Augment::Paper,
        },
    ];
    let optional = [
        ("layer decay", o.layer_decay, paper.layer_decay),
        ("drop path", config.model.drop_path, paper.drop_path),
        ("label smoothing", o.label_smoothing, paper.label_smoothing),
        ("mixup", o.mixup, paper.mixup),
        ("cutmix", o.cutmix, paper.cutmix),
        ("mask ratio", config.model.mask_ratio, paper.mask_ratio),
    ];
    for (name, ours, paper) in optional {
        if let Some(paper) = paper {
            items.push(float_item(name, ours, paper));
        }
    }
    items
}

/// One line for a header or a dialog: the three headline items, then how many other
/// settings differ and which (`effective batch 8 vs 64 ✗; lr 3.1e-5 (1e-3/256) ✓; epochs 30
/// vs 100 ✗; also differs: mixup, cutmix`).
pub fn summary(items: &[RecipeItem]) -> String {
    let mut parts: Vec<String> = items.iter().take(3).map(RecipeItem::text).collect();
    let others: Vec<&str> = items
        .iter()
        .skip(3)
        .filter(|i| !i.matches)
        .map(|i| i.name)
        .collect();
    if !others.is_empty() {
        parts.push(format!("also differs: {}", others.join(", ")));
    }
    parts.join("; ")
}

/// The recipe check of a `run.toml` as the session scan holds it, `None` when it does not
/// parse as a run config (the workbench says so elsewhere) or trains nothing.
pub fn check_value(config: &toml::Value) -> Option<Vec<RecipeItem>> {
    let config: RunConfig = config.clone().try_into().ok()?;
    let items = check(&config);
    (!items.is_empty()).then_some(items)
}

fn augment_name(a: Augment) -> &'static str {
    match a {
        Augment::Paper => "paper",
        Augment::Light => "light",
        Augment::None => "none",
    }
}

fn int_item(name: &'static str, ours: usize, paper: usize) -> RecipeItem {
    RecipeItem {
        name,
        ours: ours.to_string(),
        paper: paper.to_string(),
        matches: ours == paper,
    }
}

fn float_item(name: &'static str, ours: f64, paper: f64) -> RecipeItem {
    RecipeItem {
        name,
        ours: format!("{ours}"),
        paper: format!("{paper}"),
        matches: close(ours, paper),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

/// `2.5e-4`, `1e-3`, `3.1e-5`: two significant digits at most, trailing zeros dropped.
pub fn lr_text(lr: f64) -> String {
    if lr == 0.0 {
        return "0".into();
    }
    let text = format!("{lr:.1e}");
    let (mantissa, exponent) = text.split_once('e').expect("exponent notation");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(kind: &str, optim: &str) -> RunConfig {
        let text = format!(
            "format = 1\nkind = \"{kind}\"\nname = \"t\"\n[model]\npreset = \"demo\"\n\
             [data]\ndataset = \"dfew\"\nroot = \"/d\"\ntrain = \"a.txt\"\ntest = \"b.txt\"\n\
             [optim]\n{optim}\n"
        );
        RunConfig::parse(&text, Path::new("run.toml"), &[]).unwrap()
    }

    #[test]
    fn the_released_mafw_recipe_matches_and_its_peak_lr_is_2_5e_4() {
        let c = config(
            "finetune",
            "batch_size = 16\naccumulation = 4\nepochs = 100\nwarmup_epochs = 5\n\
             base_lr = 1e-3\nbetas = [0.9, 0.999]\nlayer_decay = 0.75\n\
             label_smoothing = 0.1\nmixup = 0.8\ncutmix = 1.0",
        );
        let mut c = c;
        c.model.drop_path = 0.1;
        let items = check(&c);
        assert!(items.iter().all(|i| i.matches), "{items:?}");
        assert_eq!(
            summary(&items),
            "effective batch 64 ✓; lr 2.5e-4 (1e-3/256) ✓; epochs 100 ✓"
        );
    }

    #[test]
    fn a_short_small_batch_run_says_what_differs() {
        let c = config(
            "finetune",
            "batch_size = 8\nepochs = 30\nwarmup_epochs = 5\nbase_lr = 1e-3\n\
             betas = [0.9, 0.999]\nlayer_decay = 0.75\nlabel_smoothing = 0.1",
        );
        let items = check(&c);
        let s = summary(&items);
        assert!(
            s.starts_with("effective batch 8 vs 64 ✗; lr 3.1e-5 (1e-3/256) ✓; epochs 30 vs 100 ✗"),
            "{s}"
        );
        assert!(s.ends_with("also differs: drop path, mixup, cutmix"), "{s}");
    }

    #[test]
    fn pretraining_is_checked_against_batch_256_and_mask_ratio_0_9() {
        let c = config(
            "pretrain",
            "batch_size = 64\naccumulation = 4\nepochs = 100\nwarmup_epochs = 5\n\
             base_lr = 3e-4\nmin_lr = 1e-5\nbetas = [0.9, 0.95]",
        );
        let items = check(&c);
        assert!(items.iter().all(|i| i.matches), "{items:?}");
        assert_eq!(items[1].ours, "3e-4 (3e-4/256)");
        assert!(items.iter().any(|i| i.name == "mask ratio"));
        assert!(!items.iter().any(|i| i.name == "mixup"));
    }

    #[test]
    fn evaluation_runs_have_no_recipe() {
        let c = config(
            "eval",
            "batch_size = 8\nepochs = 1\nbase_lr = 1e-3\nbetas = [0.9, 0.999]",
        );
        assert!(check(&c).is_empty());
        let value: toml::Value = toml::from_str(&c.to_toml()).unwrap();
        assert!(check_value(&value).is_none());
    }

    #[test]
    fn lr_text_keeps_two_digits() {
        assert_eq!(lr_text(2.5e-4), "2.5e-4");
        assert_eq!(lr_text(1e-3), "1e-3");
        assert_eq!(lr_text(1e-3 * 8.0 / 256.0), "3.1e-5");
    }
}
