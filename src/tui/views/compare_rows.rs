//! The rows of the Compare table: one per (run, dataset), final (or latest) and best values
//! of the metrics each dataset uses, and one pooled row per cross-validation (`cv/`), whose
//! folds are listed under it when it is selected.

use std::collections::BTreeMap;

use crate::tui::run_data::ShownState;
use crate::tui::series::higher_is_better;
use crate::tui::state::State;

/// Column titles; metric columns map to these metric names.
pub const COLUMNS: [&str; 7] = ["run", "dataset", "UAR", "WAR", "F1", "CCC", "ACC"];
pub const METRICS: [&str; 5] = ["uar", "war", "weighted_f1", "ccc", "acc"];

#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// The run's id, or the cross-validation's (`cv-…`).
    pub run: String,
    pub dataset: String,
    /// metric → (final, best).
    pub values: BTreeMap<String, (f64, f64)>,
    /// Where the final values come from: `final` (an evaluation file), `latest` (the
    /// validation curves of a run still running), `last` (those of a run that stopped) or
    /// `pooled` (all folds' test predictions of a cross-validation scored together).
    pub source: &'static str,
    /// Index into `AppData::cvs` for a cross-validation's row.
    pub cv: Option<usize>,
}

/// One row per (run, dataset): evaluation files give the final numbers, validation/test
/// curves the best (and the final when there is no evaluation); then one per
/// cross-validation.
pub fn rows(state: &State) -> Vec<CompareRow> {
    let mut out = Vec::new();
    for &i in &state.visible_runs() {
        let r = &state.data.runs[i];
        let mut by_ds: BTreeMap<String, BTreeMap<String, (f64, f64)>> = BTreeMap::new();
        let mut evaluated: Vec<String> = Vec::new();
        for e in &r.summary.evals {
            evaluated.push(e.dataset.clone());
            let ds = by_ds.entry(e.dataset.clone()).or_default();
            for (k, v) in &e.metrics {
                if METRICS.contains(&k.as_str()) {
                    ds.insert(k.clone(), (*v, *v));
                }
            }
        }
        let own = if r.summary.dataset.is_empty() {
            "-".to_string()
        } else {
            r.summary.dataset.clone()
        };
        for m in METRICS {
            for split in ["val", "test"] {
                if let Some(s) = r.metrics.get(split, m) {
                    let best = if higher_is_better(m) { s.max } else { s.min };
                    if let (Some(best), Some(last)) = (best, s.last) {
                        let ds = by_ds.entry(own.clone()).or_default();
                        let e = ds.entry(m.to_string()).or_insert((last.1, best));
                        e.1 = if higher_is_better(m) {
                            e.1.max(best)
                        } else {
                            e.1.min(best)
                        };
                    }
                    break;
                }
            }
        }
        if by_ds.is_empty() && r.summary.kind != "pretrain" {
            by_ds.insert(own, BTreeMap::new());
        }
        let running = matches!(
            r.shown_state(state.now),
            ShownState::Running | ShownState::Queued
        );
        for (dataset, values) in by_ds {
            let source = if evaluated.contains(&dataset) {
                "final"
            } else if running {
                "latest"
            } else {
                "last"
            };
            out.push(CompareRow {
                run: r.summary.id.clone(),
                dataset,
                values,
                source,
                cv: None,
            });
        }
    }
    for (i, cv) in state.data.cvs.iter().enumerate() {
        let Some(s) = &cv.summary else { continue };
        let values = s
            .pooled
            .iter()
            .filter(|(k, _)| METRICS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), (*v, *v)))
            .collect();
        out.push(CompareRow {
            run: cv.id.clone(),
            dataset: s.dataset.clone(),
            values,
            source: "pooled",
            cv: Some(i),
        });
    }
    out
}

pub fn sorted_rows(state: &State) -> Vec<CompareRow> {
    let mut rows = rows(state);
    let col = state.gui.compare.sort_col % COLUMNS.len();
    rows.sort_by(|a, b| {
        let ord = match col {
            0 => a.run.cmp(&b.run),
            1 => a.dataset.cmp(&b.dataset).then(a.run.cmp(&b.run)),
            c => {
                let m = METRICS[c - 2];
                let va = a.values.get(m).map(|v| v.0);
                let vb = b.values.get(m).map(|v| v.0);
                // Best first; missing last.
                match (va, vb) {
                    (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => a.run.cmp(&b.run),
                }
            }
        };
        if state.gui.compare.reverse {
            ord.reverse()
        } else {
            ord
        }
    });
    rows
}

/// The row under the Compare cursor.
pub fn selected_row(state: &State) -> Option<CompareRow> {
    let rows = sorted_rows(state);
    let last = rows.len().checked_sub(1)?;
    rows.into_iter().nth(state.gui.compare.cursor.min(last))
}

/// The runs a row stands for: the run, or a cross-validation's fold runs.
pub fn row_runs(state: &State, row: &CompareRow) -> Vec<String> {
    match row.cv.and_then(|i| state.data.cvs.get(i)?.summary.as_ref()) {
        Some(s) => s.folds.iter().map(|f| f.run.clone()).collect(),
        None => vec![row.run.clone()],
    }
}

/// A metric's short column name (`weighted_f1` → `F1`, per-target `ccc_arousal` as is).
pub fn short(key: &str) -> String {
    match METRICS.iter().position(|m| *m == key) {
        Some(i) => COLUMNS[i + 2].to_string(),
        None => key.to_string(),
    }
}
