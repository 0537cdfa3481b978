//! Compare: runs × datasets table of the metrics each dataset uses (UAR, WAR, F1, CCC, ACC),
//! final and best, sortable; config diff of marked runs ("differences only"); confusion
//! matrix of the selected run's evaluation.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::session::artifacts::EvalReport;
use crate::tui::draw_helpers::{block, note};
use crate::tui::state::{State, higher_is_better};

/// Column titles; metric columns map to these metric names.
pub const COLUMNS: [&str; 7] = ["run", "dataset", "UAR", "WAR", "F1", "CCC", "ACC"];
pub const METRICS: [&str; 5] = ["uar", "war", "weighted_f1", "ccc", "acc"];

#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    pub run: String,
    pub dataset: String,
    /// metric → (final, best).
    pub values: BTreeMap<String, (f64, f64)>,
}

/// One row per (run, dataset): evaluation files give the final numbers, validation/test
/// curves the best (and the final when there is no evaluation).
pub fn rows(state: &State) -> Vec<CompareRow> {
    let mut out = Vec::new();
    for &i in &state.visible_runs() {
        let r = &state.data.runs[i];
        let mut by_ds: BTreeMap<String, BTreeMap<String, (f64, f64)>> = BTreeMap::new();
        for e in &r.summary.evals {
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
        for (dataset, values) in by_ds {
            out.push(CompareRow {
                run: r.summary.id.clone(),
                dataset,
                values,
            });
        }
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

/// Dotted path → value for every leaf of a config.
pub fn flatten(v: &toml::Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, x) in t {
                    walk(
                        &if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        },
                        x,
                        out,
                    );
                }
            }
            toml::Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}

/// Keys whose values differ between the configs: (key, value per config, `-` when absent).
pub fn config_diff(configs: &[Option<&toml::Value>]) -> Vec<(String, Vec<String>)> {
    let flat: Vec<BTreeMap<String, String>> = configs
        .iter()
        .map(|c| c.map(flatten).unwrap_or_default())
        .collect();
    let mut keys: Vec<&String> = flat.iter().flat_map(|m| m.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let vals: Vec<String> = flat
                .iter()
                .map(|m| m.get(k).cloned().unwrap_or_else(|| "-".into()))
                .collect();
            vals.iter()
                .any(|v| *v != vals[0])
                .then(|| (k.clone(), vals))
        })
        .collect()
}

/// The runs the diff compares: the marked ones, in id order.
pub fn diff_runs(state: &State) -> Vec<String> {
    state
        .gui
        .compare
        .marked
        .iter()
        .filter(|id| state.data.run(id).is_some())
        .cloned()
        .collect()
}

/// The evaluation whose confusion matrix is shown (of the selected row's run).
pub fn selected_eval(state: &State) -> Option<&EvalReport> {
    let rows = sorted_rows(state);
    let row = rows.get(state.gui.compare.cursor.min(rows.len().checked_sub(1)?))?;
    let run = state.data.run(&row.run)?;
    let evals: Vec<&EvalReport> = run
        .summary
        .evals
        .iter()
        .filter(|e| !e.confusion.is_empty())
        .collect();
    if evals.is_empty() {
        return None;
    }
    // Prefer the row's dataset, then cycle with `next_eval`.
    let start = evals
        .iter()
        .position(|e| e.dataset == row.dataset)
        .unwrap_or(0);
    Some(evals[(start + state.gui.compare.eval) % evals.len()])
}

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let rows = sorted_rows(state);
    if rows.is_empty() {
        let b = block(" Compare ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(
            f,
            inner,
            "nothing to compare yet: fine-tuning and evaluation runs report UAR/WAR/F1/CCC/ACC",
            t,
        );
        return;
    }
    let bottom_h = if area.height >= 20 {
        area.height / 2
    } else {
        0
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(bottom_h)]).areas(area);
    let sort = state.gui.compare.sort_col % COLUMNS.len();
    let header = Row::new(COLUMNS.iter().enumerate().map(|(i, c)| {
        let arrow = if i == sort {
            if state.gui.compare.reverse {
                " ▲"
            } else {
                " ▼"
            }
        } else {
            ""
        };
        Cell::from(format!("{c}{arrow}"))
    }))
    .style(Style::default().fg(t.title).add_modifier(Modifier::BOLD));
    let body: Vec<Row> = rows
        .iter()
        .map(|r| {
            let mark = if state.gui.compare.marked.contains(&r.run) {
                "+ "
            } else {
                "  "
            };
            let mut cells = vec![
                Cell::from(format!("{mark}{}", r.run)),
                Cell::from(r.dataset.clone()),
            ];
            for m in METRICS {
                cells.push(match r.values.get(m) {
                    Some((fin, best)) if (fin - best).abs() > 1e-12 => {
                        Cell::from(format!("{fin:.4} ({best:.4})"))
                    }
                    Some((fin, _)) => Cell::from(format!("{fin:.4}")),
                    None => Cell::from(Span::styled("-", Style::default().fg(t.muted))),
                });
            }
            Row::new(cells)
        })
        .collect();
    let widths = [
        Constraint::Min(24),
        Constraint::Length(10),
        Constraint::Length(17),
        Constraint::Length(17),
        Constraint::Length(17),
        Constraint::Length(17),
        Constraint::Length(17),
    ];
    let table = Table::new(body, widths)
        .header(header)
        .block(block(" runs × datasets: final (best) ", t))
        .row_highlight_style(Style::default().bg(t.selected_bg).fg(t.selected_fg));
    let mut ts =
        TableState::default().with_selected(Some(state.gui.compare.cursor.min(rows.len() - 1)));
    f.render_stateful_widget(table, top, &mut ts);
    if bottom_h == 0 {
        return;
    }
    let [diff, conf] =
        Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(bottom);
    draw_diff(state, f, diff);
    draw_confusion(state, f, conf);
}

fn draw_diff(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let ids = diff_runs(state);
    if ids.len() < 2 {
        let b = block(" config diff ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(
            f,
            inner,
            "mark two or more runs (space) to see how their configs differ",
            t,
        );
        return;
    }
    let configs: Vec<Option<&toml::Value>> = ids
        .iter()
        .map(|id| state.data.run(id).and_then(|r| r.summary.config.as_ref()))
        .collect();
    let diff = config_diff(&configs);
    let header = Row::new(
        std::iter::once("key".to_string()).chain(ids.iter().map(|i| {
            crate::session::layout::split_run_id(i).map_or(i.clone(), |(_, _, n)| n.to_string())
        })),
    )
    .style(Style::default().fg(t.title).add_modifier(Modifier::BOLD));
    let rows: Vec<Row> = diff
        .iter()
        .map(|(k, vals)| Row::new(std::iter::once(k.clone()).chain(vals.iter().cloned())))
        .collect();
    let n = ids.len() as u32;
    let mut widths = vec![Constraint::Ratio(2, n + 2)];
    widths.extend((0..n).map(|_| Constraint::Ratio(1, n + 2)));
    let title = format!(" config diff: {} differences ", diff.len());
    if rows.is_empty() {
        let b = block(title, t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(f, inner, "identical configs", t);
    } else {
        f.render_widget(
            Table::new(rows, widths)
                .header(header)
                .block(block(title, t)),
            area,
        );
    }
}

fn draw_confusion(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let Some(e) = selected_eval(state) else {
        let b = block(" confusion matrix ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(
            f,
            inner,
            "no evaluation with a confusion matrix for this run",
            t,
        );
        return;
    };
    let title = format!(
        " confusion: {}-{} (rows true, cols predicted) ",
        e.dataset, e.split
    );
    let b = block(title, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let n = e.confusion.len();
    let label_w = 9u16;
    let cell_w = ((inner.width.saturating_sub(label_w)) / n.max(1) as u16).clamp(3, 7);
    let name = |i: usize| {
        e.class_names
            .get(i)
            .cloned()
            .unwrap_or_else(|| i.to_string())
    };
    let mut lines = vec![Line::from(
        std::iter::once(Span::raw(format!("{:w$}", "", w = label_w as usize)))
            .chain((0..n).map(|j| {
                Span::styled(
                    format!(" {:>w$.w$}", name(j), w = cell_w as usize - 1),
                    Style::default().fg(t.muted),
                )
            }))
            .collect::<Vec<_>>(),
    )];
    for (i, row) in e.confusion.iter().enumerate() {
        let total: u64 = row.iter().sum::<u64>().max(1);
        let mut spans = vec![Span::styled(
            format!("{:<w$.w$}", name(i), w = label_w as usize),
            Style::default().fg(t.muted),
        )];
        for (j, v) in row.iter().enumerate() {
            let frac = *v as f32 / total as f32;
            let fg = if frac > 0.5 {
                ratatui::style::Color::Black
            } else {
                t.fg
            };
            let mut style = Style::default().bg(t.heat(frac)).fg(fg);
            if i == j {
                style = style.add_modifier(Modifier::BOLD);
            }
            spans.push(Span::styled(format!("{v:>w$}", w = cell_w as usize), style));
        }
        lines.push(Line::from(spans));
    }
    let metrics: Vec<String> = e
        .metrics
        .iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect();
    lines.push(Line::from(Span::styled(
        metrics.join("  "),
        Style::default().fg(t.accent),
    )));
    f.render_widget(Paragraph::new(lines), inner);
}
