//! Runs: every run of the session with kind, dataset, state, progress, step/epoch,
//! throughput, ETA and best metric; details of the selected run below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::tui::action::Action;
use crate::tui::draw_helpers::{FittedColumns, block, duration, note, num};
use crate::tui::run_data::{RunData, ShownState};
use crate::tui::state::State;
use crate::tui::theme::Theme;
use crate::tui::view::View;

pub fn state_color(t: &Theme, s: ShownState) -> ratatui::style::Color {
    match s {
        ShownState::Running => t.running,
        ShownState::Finished => t.ok,
        ShownState::Failed | ShownState::Lost => t.error,
        ShownState::Stopped | ShownState::Queued => t.warn,
        ShownState::NoStatus => t.muted,
    }
}

/// `██████░░░░ 60%` in `width` cells.
pub fn bar(fraction: Option<f64>, width: usize) -> String {
    let Some(p) = fraction else {
        return format!("{:width$}", "");
    };
    let cells = width.saturating_sub(5);
    let full = ((p * cells as f64).round() as usize).min(cells);
    format!(
        "{}{} {:>3.0}%",
        "█".repeat(full),
        "░".repeat(cells - full),
        p * 100.0
    )
}

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let vis = state.visible_runs();
    let title = if state.gui.filter.is_empty() {
        format!(" Runs ({}) ", state.data.runs.len())
    } else {
        format!(
            " Runs ({} of {}, filter \"{}\") ",
            vis.len(),
            state.data.runs.len(),
            state.gui.filter
        )
    };
    if state.data.runs.is_empty() {
        let b = block(title, t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        let k = |a: Action| {
            state
                .keymap
                .keys_for(View::Runs, &a)
                .first()
                .cloned()
                .unwrap_or_else(|| "?".into())
        };
        let text = if !state.data.scanned {
            "reading the session…".to_string()
        } else {
            format!(
                "No runs yet. Press {} to make demo data and launch a CPU pre-training run (the demo-pretrain config), then {} to fine-tune from it (demo-finetune), or {} to launch from a run config.",
                k(Action::DemoPretrain),
                k(Action::DemoFinetune),
                k(Action::Launch)
            )
        };
        note(f, inner, &text, t);
        return;
    }
    let detail_h = if area.height >= 16 { 7 } else { 0 };
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(detail_h)]).areas(area);
    let columns = fitting_columns(table_area.width);
    let header = columns
        .row(COLUMNS.iter().map(|c| Cell::from(c.0)).collect())
        .style(Style::default().fg(t.title).add_modifier(Modifier::BOLD));
    let rows: Vec<Row> = vis
        .iter()
        .map(|&i| columns.row(row(state, &state.data.runs[i])))
        .collect();
    let table = Table::new(rows, columns.widths())
        .header(header)
        .block(block(title, t))
        .row_highlight_style(
            Style::default()
                .bg(t.selected_bg)
                .fg(t.selected_fg)
                .add_modifier(Modifier::BOLD),
        )
        .highlight_symbol("▶ ");
    let mut ts = TableState::default().with_selected(state.selected_visible_row(&vis));
    f.render_stateful_widget(table, table_area, &mut ts);
    if detail_h > 0
        && let Some(run) = state.selected_run()
    {
        detail(state, run, f, detail_area);
    }
}

/// The table's columns: (title, width, priority — lower is dropped later on a narrow
/// terminal).
const COLUMNS: [(&str, u16, u8); 10] = [
    ("run (time-name)", 24, 0),
    ("kind", 8, 6),
    ("dataset", 9, 5),
    ("state", 8, 1),
    ("progress", 13, 3),
    ("step", 11, 8),
    ("epoch", 7, 4),
    ("clips/s", 7, 7),
    ("ETA", 7, 2),
    ("best", 13, 1),
];

/// The columns that fit in a table `width` cells wide.
fn fitting_columns(width: u16) -> FittedColumns {
    let columns = COLUMNS.map(|(_, w, priority)| (w, priority));
    // Borders and the highlight symbol.
    FittedColumns::new(&columns, width.saturating_sub(4))
}

/// `4/22` for a run in its 4th of 22 epochs (the status counts epochs from 0); `22/22`
/// once finished; `0/22` before its first step.
pub fn epoch_text(s: &crate::session::RunStatus) -> String {
    let shown = if s.step == 0 {
        0
    } else if s.total_epochs > 0 {
        (s.epoch + 1).min(s.total_epochs)
    } else {
        s.epoch + 1
    };
    if s.total_epochs > 0 {
        format!("{shown}/{}", s.total_epochs)
    } else {
        shown.to_string()
    }
}

fn row<'a>(state: &State, r: &'a RunData) -> Vec<Cell<'a>> {
    let t = &state.theme;
    let s = &r.summary;
    let shown = r.shown_state(state.now);
    let st = s.status.as_ref();
    let step = st
        .map(|s| {
            if s.total_steps > 0 {
                format!("{}/{}", s.step, s.total_steps)
            } else {
                s.step.to_string()
            }
        })
        .unwrap_or_default();
    let epoch = st.map(epoch_text).unwrap_or_default();
    let thr = st
        .filter(|s| s.throughput > 0.0)
        .map(|s| format!("{:.1}", s.throughput))
        .unwrap_or_default();
    // A running worker busy with something else than steps says so where the ETA goes
    // ("compiling kernels" during a GPU run's first step; the details below spell it out).
    let eta = st
        .filter(|_| shown == ShownState::Running)
        .and_then(|s| match &s.activity {
            Some(_) => Some("compile".to_string()),
            None => s.eta_seconds.map(duration),
        })
        .unwrap_or_default();
    let best = r
        .best_metric()
        .map(|(k, v)| format!("{k} {}", num(v)))
        .unwrap_or_default();
    let mark = if state.gui.marked.contains(&s.id) {
        "● "
    } else {
        ""
    };
    vec![
        Cell::from(Line::from(vec![
            Span::styled(mark, Style::default().fg(t.accent)),
            Span::raw(
                s.id.strip_prefix(&format!("{}-", s.kind))
                    .unwrap_or(&s.id)
                    .to_string(),
            ),
        ])),
        Cell::from(s.kind.clone()),
        Cell::from(s.dataset.clone()),
        Cell::from(shown.label()).style(
            Style::default()
                .fg(state_color(t, shown))
                .add_modifier(Modifier::BOLD),
        ),
        Cell::from(bar(st.and_then(|s| s.progress()), 13))
            .style(Style::default().fg(state_color(t, shown))),
        Cell::from(step),
        Cell::from(epoch),
        Cell::from(thr),
        Cell::from(eta),
        Cell::from(best),
    ]
}

fn detail(state: &State, run: &RunData, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let s = &run.summary;
    let label = Style::default().fg(t.muted);
    let mut lines = vec![Line::from(vec![
        Span::styled("preset ", label),
        Span::raw(if s.preset.is_empty() {
            "-".to_string()
        } else {
            s.preset.clone()
        }),
        Span::styled("  host ", label),
        Span::raw(
            s.status
                .as_ref()
                .map(|s| s.host.clone())
                .unwrap_or_default(),
        ),
        Span::styled("  worker ", label),
        Span::raw(match &s.lock {
            Some(h) if h.host == s.status.as_ref().map_or("", |s| s.host.as_str()) => {
                format!("pid {}", h.pid)
            }
            Some(h) => format!("pid {} on {}", h.pid, h.host),
            None => "none".into(),
        }),
        Span::styled("  started ", label),
        Span::raw(
            s.status
                .as_ref()
                .and_then(|s| s.started.clone())
                .unwrap_or_default(),
        ),
    ])];
    lines.push(Line::from(vec![
        Span::styled("checkpoints ", label),
        Span::raw(s.checkpoints.len().to_string()),
        Span::styled("  latest ", label),
        Span::raw(s.latest_checkpoint.clone().unwrap_or_else(|| "-".into())),
        Span::styled("  recon steps ", label),
        Span::raw(s.recon_steps.len().to_string()),
        Span::styled("  attention steps ", label),
        Span::raw(s.attn_steps.len().to_string()),
        Span::styled("  evaluations ", label),
        Span::raw(s.evals.len().to_string()),
    ]));
    let shown = run.shown_state(state.now);
    if let Some(ranks) = s
        .status
        .as_ref()
        .and_then(|st| super::rank_line::rank_line(st, shown == ShownState::Running, state.now, t))
    {
        lines.push(ranks);
    }
    if let Some(activity) = s
        .status
        .as_ref()
        .and_then(|s| s.activity.clone())
        .filter(|_| shown == ShownState::Running)
    {
        lines.push(Line::from(Span::styled(
            format!(
                "{activity}: a GPU run's first steps compile and autotune its kernels \
                 (`svfap-tui warmup` ahead of the run saves this)"
            ),
            Style::default().fg(t.warn),
        )));
    }
    if shown == ShownState::Lost {
        lines.push(Line::from(Span::styled(
            "no heartbeat for over 60 s: the worker is gone (resume to continue)",
            Style::default().fg(t.error),
        )));
    }
    if let Some(err) = s.status.as_ref().and_then(|s| s.last_error.clone()) {
        lines.push(Line::from(vec![
            Span::styled(
                "error ",
                Style::default().fg(t.error).add_modifier(Modifier::BOLD),
            ),
            Span::styled(err, Style::default().fg(t.error)),
        ]));
    }
    for p in &s.problems {
        lines.push(Line::from(Span::styled(
            p.clone(),
            Style::default().fg(t.warn),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(format!(" {} ", s.id), t)),
        area,
    );
}
