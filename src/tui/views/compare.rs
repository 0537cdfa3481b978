//! Compare: runs × datasets table of the metrics each dataset uses (UAR, WAR, F1, CCC, ACC)
//! with the paper's SVFAP-B rows as anchors and each run's difference from them, final (or
//! latest) and best in their own columns, cross-validations pooled with their folds under
//! them, sortable; under it the config diff of marked runs and the confusion matrix of the
//! selected row.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::session::cv_scan::CvResult;
use crate::tui::draw_helpers::{FittedColumns, block, note};
use crate::tui::state::State;
pub use crate::tui::views::compare_diff::{config_diff, diff_runs, marked_diff};
use crate::tui::views::compare_rows::short;
pub use crate::tui::views::compare_rows::{
    COLUMNS, CompareRow, METRICS, row_runs, rows, selected_row, sorted_rows,
};
pub use crate::tui::views::confusion::selected_eval;
use crate::tui::views::scoreboard::{Anchor, anchor, delta, delta_text, shown};
use crate::tui::views::{compare_diff, confusion};

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
    let columns = FittedColumns::new(&TABLE, top.width.saturating_sub(2));
    let fitting = |cells| columns.row(cells);
    let header = fitting(
        COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| {
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
            })
            .chain(["values", "best", "Δ paper"].map(Cell::from))
            .collect(),
    )
    .style(Style::default().fg(t.title).add_modifier(Modifier::BOLD));
    // The paper's rows first, one per dataset the runs report on.
    let mut anchors: Vec<Anchor> = Vec::new();
    for r in &rows {
        if let Some(a) = anchor(&r.dataset)
            && !anchors.iter().any(|x| x.dataset == a.dataset)
        {
            anchors.push(a);
        }
    }
    let paper_style = Style::default().fg(t.muted).add_modifier(Modifier::ITALIC);
    let mut body: Vec<Row> = anchors
        .iter()
        .map(|a| {
            let mut cells = vec![
                Cell::from("  paper: SVFAP-B"),
                Cell::from(a.dataset.to_string()),
            ];
            for m in METRICS {
                // Per-target numbers (CCC of arousal, valence, …) share the metric's column.
                let vals: Vec<String> = a
                    .values
                    .iter()
                    .filter(|(k, _)| k == m || k.starts_with(&format!("{m}_")))
                    .map(|(k, v)| shown(k, *v))
                    .collect();
                cells.push(Cell::from(if vals.is_empty() {
                    "-".to_string()
                } else {
                    vals.join("/")
                }));
            }
            cells.push(Cell::from("paper"));
            fitting(cells).style(paper_style)
        })
        .collect();
    let cursor = state.gui.compare.cursor.min(rows.len() - 1);
    for (i, r) in rows.iter().enumerate() {
        body.push(fitting(run_cells(state, r)));
        // A selected cross-validation shows its folds under it.
        if i == cursor
            && let Some(cv) = r.cv.and_then(|c| state.data.cvs.get(c))
        {
            let muted = Style::default().fg(state.theme.muted);
            body.extend(fold_cells(cv).into_iter().map(|c| fitting(c).style(muted)));
        }
    }
    let table = Table::new(body, columns.widths())
        .header(header)
        .block(block(
            " runs × datasets · UAR/WAR/F1 in % as the paper prints them ",
            t,
        ))
        .row_highlight_style(Style::default().bg(t.selected_bg).fg(t.selected_fg));
    let mut ts = TableState::default().with_selected(Some(anchors.len() + cursor));
    f.render_stateful_widget(table, top, &mut ts);
    if bottom_h == 0 {
        return;
    }
    let [diff, conf] =
        Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(bottom);
    compare_diff::draw(state, f, diff);
    confusion::draw(state, rows.get(cursor), f, conf);
}

/// The table's columns (run, dataset, UAR, WAR, F1, CCC, ACC, values, best, Δ paper) as
/// (width, priority): a narrow terminal drops F1, CCC, ACC, best and values before it cuts
/// the run, its dataset, UAR, WAR and the delta to the paper.
const TABLE: [(u16, u8); 10] = [
    (27, 0),
    (11, 2),
    (6, 0),
    (6, 1),
    (6, 5),
    (10, 6),
    (6, 7),
    (6, 4),
    (15, 8),
    (11, 3),
];

/// A run's (or a cross-validation's pooled) cells.
fn run_cells(state: &State, r: &CompareRow) -> Vec<Cell<'static>> {
    let t = &state.theme;
    let marked = row_runs(state, r)
        .iter()
        .any(|id| state.gui.marked.contains(id));
    let mark = if marked { "● " } else { "  " };
    // Run ids without their kind (the dataset column says what was trained), as the Runs
    // view shows them; cross-validation ids whole.
    let id = match crate::session::layout::split_run_id(&r.run) {
        Some((_, stamp, name)) if r.cv.is_none() => format!("{stamp}-{name}"),
        _ => r.run.clone(),
    };
    let mut cells = vec![
        Cell::from(Line::from(vec![
            Span::styled(mark, Style::default().fg(t.accent)),
            Span::raw(id),
        ])),
        Cell::from(r.dataset.clone()),
    ];
    for m in METRICS {
        cells.push(match r.values.get(m) {
            Some((fin, _)) => Cell::from(shown(m, *fin)),
            None => Cell::from(Span::styled("-", Style::default().fg(t.muted))),
        });
    }
    let source_style = match r.source {
        "final" | "pooled" => Style::default().fg(t.ok),
        "latest" => Style::default().fg(t.running),
        _ => Style::default().fg(t.muted),
    };
    cells.push(Cell::from(Span::styled(r.source, source_style)));
    cells.push(Cell::from(match r.cv.and_then(|c| state.data.cvs.get(c)) {
        // A cross-validation's spread over its folds: mean ± std of the headline metric.
        Some(cv) => spread(cv).unwrap_or_default(),
        // Best of the headline metric (the first the row has), when it differs from the
        // final value.
        None => METRICS
            .iter()
            .find_map(|m| {
                let (fin, best) = r.values.get(*m)?;
                Some(if (fin - best).abs() > 1e-12 {
                    format!("{} {}", shown(m, *best), short(m))
                } else {
                    String::new()
                })
            })
            .unwrap_or_default(),
    }));
    let d = anchor(&r.dataset).and_then(|a| {
        let (k, d) = delta(|k| r.values.get(k).map(|v| v.0), &a)?;
        Some((delta_text(k, d), short(k), d))
    });
    cells.push(match d {
        Some((text, k, d)) => Cell::from(Span::styled(
            format!("{text} {k}"),
            Style::default().fg(if d >= 0.0 { t.ok } else { t.warn }),
        )),
        None => Cell::from(""),
    });
    cells
}

/// `61.20±1.84 UAR`: the folds' mean ± std of the first headline metric they have.
pub fn spread(cv: &CvResult) -> Option<String> {
    let s = cv.summary.as_ref()?;
    METRICS.iter().find_map(|m| {
        let mean = s.fold_mean.get(*m)?;
        let std = s.fold_std.get(*m).copied().unwrap_or(0.0);
        let (mean, std) = (shown(m, *mean), shown(m, std));
        Some(format!("{mean}±{std} {}", short(m)))
    })
}

/// One row per fold of a cross-validation: its run and its own test metrics.
fn fold_cells(cv: &CvResult) -> Vec<Vec<Cell<'static>>> {
    let Some(s) = &cv.summary else {
        return Vec::new();
    };
    s.folds
        .iter()
        .map(|fold| {
            // The fold's run by its name (the full id is in the cv's cv.json).
            let name = crate::session::layout::split_run_id(&fold.run)
                .map_or(fold.run.clone(), |(_, _, name)| name.to_string());
            let mut cells = vec![
                Cell::from(format!("    fold {}: {name}", fold.fold)),
                Cell::from(format!("{} videos", fold.videos)),
            ];
            for m in METRICS {
                cells.push(Cell::from(
                    fold.metrics
                        .get(m)
                        .map_or("-".to_string(), |v| shown(m, *v)),
                ));
            }
            cells.push(Cell::from("fold"));
            cells
        })
        .collect()
}
