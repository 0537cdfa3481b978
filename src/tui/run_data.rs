//! One run as the workbench shows it: its summary from the last scan, its metric series,
//! the state shown (with `lost` for a stale heartbeat) and its headline number.

use super::series::RunMetrics;
use crate::session::RunState;
use crate::session::scan::RunSummary;
use crate::train::recipe::{self, RecipeItem};

#[derive(Debug, Clone, Default)]
pub struct RunData {
    pub summary: RunSummary,
    pub metrics: RunMetrics,
    /// The recipe check of `summary.config` (its departures from the paper's recipe),
    /// worked out once per scan, not per drawn frame; `None` when it trains nothing or
    /// does not parse.
    pub recipe: Option<Vec<RecipeItem>>,
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
    /// `previous` is this run's data before the scan: its metrics carry over, and its
    /// recipe check when the config did not change.
    pub fn new(summary: RunSummary, previous: Option<RunData>) -> Self {
        let (metrics, recipe) = match previous {
            Some(p) if p.summary.config == summary.config => (p.metrics, p.recipe),
            Some(p) => (p.metrics, recipe_of(&summary)),
            None => (RunMetrics::default(), recipe_of(&summary)),
        };
        Self {
            summary,
            metrics,
            recipe,
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
