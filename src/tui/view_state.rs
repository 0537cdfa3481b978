//! What each view remembers between frames: the Monitor's chart options, the step/sample
//! of Reconstructions, the map/head/frame/token of Attention, Compare's cursor and sort.

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorOpts {
    /// The chosen metric by name, so that switching runs keeps `uar` on `uar`; empty or
    /// absent from a run: its first metric (loss first).
    pub metric: String,
    /// Several metrics at once, one small chart each.
    pub grid: bool,
    /// What the x axis counts.
    pub x_axis: XAxis,
    /// The metric picker (`/`), open while typing a name.
    pub picker: Option<MetricPicker>,
    /// Index into [`SMOOTHING`].
    pub smoothing: usize,
    pub log_scale: bool,
    /// Show only the most recent [`RECENT_WINDOW`] steps.
    pub recent: bool,
    /// Overlay validation on training curves.
    pub overlay: bool,
}

pub const SMOOTHING: [f64; 4] = [0.0, 0.6, 0.9, 0.99];
pub const RECENT_WINDOW: f64 = 1000.0;

impl Default for MonitorOpts {
    fn default() -> Self {
        Self {
            metric: String::new(),
            grid: false,
            x_axis: XAxis::Step,
            picker: None,
            smoothing: 0,
            log_scale: false,
            recent: false,
            overlay: true,
        }
    }
}

impl MonitorOpts {
    /// The metric shown among `names` (a run's metric names in display order).
    pub fn chosen<'a>(&self, names: &'a [String]) -> Option<&'a String> {
        names
            .iter()
            .find(|n| **n == self.metric)
            .or_else(|| names.first())
    }
}

/// The Monitor's x axis: optimiser steps, epochs (1-based, as the header counts them), or
/// wall time since the run's first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XAxis {
    #[default]
    Step,
    Epoch,
    Time,
}

impl XAxis {
    pub fn next(self) -> XAxis {
        match self {
            XAxis::Step => XAxis::Epoch,
            XAxis::Epoch => XAxis::Time,
            XAxis::Time => XAxis::Step,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            XAxis::Step => "step",
            XAxis::Epoch => "epoch",
            XAxis::Time => "time",
        }
    }
}

/// The metric picker: the typed query and the highlighted match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricPicker {
    pub query: String,
    pub cursor: usize,
}

/// `names` that contain the query's characters in order (case-insensitive), best first:
/// a contiguous match before a scattered one, then shorter names, then by name.
pub fn fuzzy_matches<'a>(names: &'a [String], query: &str) -> Vec<&'a String> {
    let q: Vec<char> = query.to_lowercase().chars().collect();
    let mut scored: Vec<(usize, usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let low = n.to_lowercase();
            let mut it = low.chars();
            if !q.iter().all(|c| it.any(|x| x == *c)) {
                return None;
            }
            let scattered = usize::from(!low.contains(&query.to_lowercase()));
            Some((scattered, n.len(), n))
        })
        .collect();
    scored.sort();
    scored.into_iter().map(|(_, _, n)| n).collect()
}

/// Reconstructions: the step (counted back from the newest, so the view opens at the latest
/// step and stays there as new ones arrive) and the sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReconSel {
    pub back: usize,
    pub sample: usize,
}

/// Whose attention maps an image shows: a run's (`attn/step-N/`, keyed by step) or an
/// inspected video's (`inspect/<name>/attn/window-N/`, keyed by window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttnOwner {
    Run(String),
    Inspection(String),
}

/// Attention: the step (counted back from the newest), map, head, frame and token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttnSel {
    pub back: usize,
    pub map: usize,
    pub head: usize,
    pub frame: usize,
    /// Query token (the bottleneck token for cross-attention).
    pub token: usize,
}

/// The step `back` steps before the newest of `steps` (oldest first), as (index, step); the
/// oldest when `back` goes past it.
pub fn step_back(steps: &[u64], back: usize) -> Option<(usize, u64)> {
    let last = steps.len().checked_sub(1)?;
    let i = last - back.min(last);
    Some((i, steps[i]))
}

/// Inspect: the inspection (by folder name; none: the newest), the window (none: where the
/// predicted class peaks), the attention map (none: the rollout) and head.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectSel {
    pub name: Option<String>,
    pub window: Option<usize>,
    pub map: Option<usize>,
    pub head: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareSel {
    pub cursor: usize,
    pub sort_col: usize,
    pub reverse: bool,
    pub eval: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_matches_in_order_and_ranks_contiguous_matches_first() {
        let names: Vec<String> = ["loss", "uar", "war", "weighted_f1", "lr", "grad_norm"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // Contiguous matches first, then scattered ones (`g·r·a·d_no·r·m`).
        let m = fuzzy_matches(&names, "ar");
        assert_eq!(m, vec!["uar", "war", "grad_norm"]);
        let m = fuzzy_matches(&names, "wf1");
        assert_eq!(m, vec!["weighted_f1"]);
        let m = fuzzy_matches(&names, "r");
        assert_eq!(m[0], "lr", "shorter contiguous first: {m:?}");
        assert_eq!(fuzzy_matches(&names, "").len(), names.len());
        assert!(fuzzy_matches(&names, "xyz").is_empty());
    }

    #[test]
    fn steps_count_back_from_the_newest() {
        assert_eq!(step_back(&[200, 400, 600], 0), Some((2, 600)));
        assert_eq!(step_back(&[200, 400, 600], 2), Some((0, 200)));
        assert_eq!(step_back(&[200, 400, 600], 9), Some((0, 200)));
        assert_eq!(step_back(&[], 0), None);
    }

    #[test]
    fn the_chosen_metric_is_kept_by_name_and_falls_back_to_the_first() {
        let names: Vec<String> = vec!["loss".into(), "uar".into()];
        let mut o = MonitorOpts::default();
        assert_eq!(o.chosen(&names).unwrap(), "loss");
        o.metric = "uar".into();
        assert_eq!(o.chosen(&names).unwrap(), "uar");
        o.metric = "ccc".into();
        assert_eq!(o.chosen(&names).unwrap(), "loss");
        assert!(o.chosen(&[]).is_none());
    }
}
