//! One run as the workbench shows it: its summary from the last scan, its metric series,
//! the state shown (with `lost` for a stale heartbeat) and its headline number.

use super::series::RunMetrics;
use crate::session::RunState;
use crate::session::scan::RunSummary;
use crate::train::recipe::{self, RecipeItem};
use crate::tui::config_leaves::{ConfigLeaves, config_leaves};

#[derive(Debug, Clone, Default)]
pub struct RunData {
    pub summary: RunSummary,
    pub metrics: RunMetrics,
    /// The recipe check of `summary.config` (its departures from the paper's recipe),
    /// worked out once per scan, not per drawn frame; `None` when it trains nothing or
    /// does not parse.
    pub recipe: Option<Vec<RecipeItem>>,
    /// `summary.config`'s leaves for Compare's config diff, also worked out once per scan.
    pub config_leaves: Option<ConfigLeaves>,
}

/// How a run is shown: its state, or `lost` when a running run's heartbeat stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownState {
    NoStatus,
    Queued,
    Running,
    Lost,
    Finished,
    Failed,
    Stopped,
}

impl ShownState {
    pub fn label(self) -> &'static str {
        match self {
            ShownState::NoStatus => "new",
            ShownState::Queued => "queued",
            ShownState::Running => "running",
            ShownState::Lost => "lost",
            ShownState::Finished => "finished",
            ShownState::Failed => "failed",
            ShownState::Stopped => "stopped",
        }
    }
}

impl RunData {
    /// `previous` is this run's data before the scan: its metrics carry over, and what is
    /// worked out from the config when the config did not change. `session_root`: the
    /// session's canonical path, which the config leaves write `<session>`.
    pub fn new(summary: RunSummary, previous: Option<RunData>, session_root: Option<&str>) -> Self {
        let (metrics, recipe, config_leaves) = match previous {
            Some(p) if p.summary.config == summary.config => (p.metrics, p.recipe, p.config_leaves),
            previous => (
                previous.map(|p| p.metrics).unwrap_or_default(),
                recipe_of(&summary),
                summary
                    .config
                    .as_ref()
                    .map(|c| config_leaves(c, session_root)),
            ),
        };
        Self {
            summary,
            metrics,
            recipe,
            config_leaves,
        }
    }
    pub fn id(&self) -> &str {
        &self.summary.id
    }
    pub fn shown_state(&self, now: f64) -> ShownState {
        match &self.summary.status {
            None => ShownState::NoStatus,
            Some(s) if s.is_stale(now) => ShownState::Lost,
            Some(s) => match s.state {
                RunState::Queued => ShownState::Queued,
                RunState::Running => ShownState::Running,
                RunState::Finished => ShownState::Finished,
                RunState::Failed => ShownState::Failed,
                RunState::Stopped => ShownState::Stopped,
            },
        }
    }
    /// The run's headline number: an evaluation metric, else the best validation metric,
    /// else the lowest loss.
    pub fn best_metric(&self) -> Option<(String, f64)> {
        for e in &self.summary.evals {
            for k in ["uar", "ccc", "weighted_f1", "acc", "war"] {
                if let Some(v) = e.metrics.get(k) {
                    return Some((k.to_string(), *v));
                }
            }
        }
        for split in ["val", "test"] {
            for k in ["uar", "ccc", "weighted_f1", "acc", "war"] {
                if let Some(s) = self.metrics.get(split, k) {
                    return s.max.map(|v| (k.to_string(), v));
                }
            }
        }
        for split in ["val", "train"] {
            if let Some(s) = self.metrics.get(split, "loss") {
                return s.min.map(|v| ("loss".to_string(), v));
            }
        }
        None
    }
}

fn recipe_of(summary: &RunSummary) -> Option<Vec<RecipeItem>> {
    summary.config.as_ref().and_then(recipe::check_value)
}
