//! The confusion matrix of the selected Compare row's evaluation (a run's, or the pooled
//! one of a cross-validation): titled with the run, the split and the step it scored; full
//! class names as far as the panel allows; per-class recall beside each row; the metrics in
//! the paper's units.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::session::artifacts::EvalReport;
use crate::tui::draw_helpers::{block, note};
use crate::tui::state::State;
use crate::tui::views::compare_rows::{CompareRow, selected_row, short};
use crate::tui::views::scoreboard::shown;

/// The evaluation shown, and what it belongs to (`run-name · step 1200`, `cv-… pooled`).
pub fn selected_eval(state: &State) -> Option<(&EvalReport, String)> {
    eval_of_row(state, &selected_row(state)?)
}

/// The evaluation shown for `row` of the Compare table.
pub fn eval_of_row<'s>(state: &'s State, row: &CompareRow) -> Option<(&'s EvalReport, String)> {
    if let Some(cv) = row.cv.and_then(|i| state.data.cvs.get(i)) {
        let e = cv.pooled.as_ref().filter(|e| !e.confusion.is_empty())?;
        let folds = cv.summary.as_ref().map_or(0, |s| s.folds.len());
        return Some((e, format!("{} · pooled over {folds} folds", cv.id)));
    }
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
    let e = evals[(start + state.gui.compare.eval) % evals.len()];
    let name = crate::session::layout::split_run_id(&row.run)
        .map_or(row.run.clone(), |(_, _, n)| n.to_string());
    let step = run
        .summary
        .status
        .as_ref()
        .map(|s| format!(" · step {}", s.step))
        .unwrap_or_default();
    Some((e, format!("{name}{step}")))
}

/// Black or white, whichever reads on `bg`.
fn contrast_fg(bg: Color, fallback: Color) -> Color {
    match bg {
        Color::Rgb(r, g, b) => {
            let luma = 0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32;
            if luma > 140.0 {
                Color::Black
            } else {
                Color::White
            }
        }
        _ => fallback,
    }
}

/// The confusion matrix of the Compare table's selected `row` (the caller has the sorted
/// rows at hand: sorting them again per drawn frame is what this spares).
pub fn draw(state: &State, row: Option<&CompareRow>, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let Some((e, owner)) = row.and_then(|r| eval_of_row(state, r)) else {
        let b = block(" confusion matrix ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(
            f,
            inner,
            "no evaluation with a confusion matrix for this row",
            t,
        );
        return;
    };
    let title = format!(" {owner} · {} {} ", e.dataset, e.split);
    let b = block(title, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let n = e.confusion.len().max(1);
    let name = |i: usize| {
        e.class_names
            .get(i)
            .cloned()
            .unwrap_or_else(|| i.to_string())
    };
    let longest = (0..n).map(|i| name(i).chars().count()).max().unwrap_or(1);
    let recall_w = 8usize;
    let width = inner.width as usize;
    // Row labels as long as the names (within a third of the panel), cells share the rest.
    let label_w = (longest + 1).min(width / 3).max(4);
    let cell_w = (width.saturating_sub(label_w + recall_w) / n).clamp(4, 12);
    let muted = Style::default().fg(t.muted);
    // Rows are the true classes, columns the predicted ones.
    let mut head: Vec<Span> = vec![Span::styled(
        format!("{:<label_w$.label_w$}", "true\\pred"),
        muted,
    )];
    head.extend(
        (0..n).map(|j| Span::styled(format!(" {:>w$.w$}", name(j), w = cell_w - 1), muted)),
    );
    head.push(Span::styled(format!("{:>recall_w$}", "recall"), muted));
    let mut lines = vec![Line::from(head)];
    for (i, row) in e.confusion.iter().enumerate() {
        let total: u64 = row.iter().sum::<u64>();
        let mut spans = vec![Span::styled(
            format!("{:<w$.w$}", name(i), w = label_w),
            muted,
        )];
        for (j, v) in row.iter().enumerate() {
            let frac = *v as f32 / total.max(1) as f32;
            let bg = t.heat(frac);
            let mut style = Style::default().bg(bg).fg(contrast_fg(bg, t.fg));
            if i == j {
                style = style.add_modifier(Modifier::BOLD);
            }
            spans.push(Span::styled(format!("{v:>cell_w$}"), style));
        }
        let recall = (total > 0).then(|| row.get(i).copied().unwrap_or(0) as f64 / total as f64);
        spans.push(Span::styled(
            format!(
                "{:>recall_w$}",
                recall.map_or("-".to_string(), |r| format!("{:.1}", r * 100.0))
            ),
            Style::default().fg(t.accent),
        ));
        lines.push(Line::from(spans));
    }
    let metrics: Vec<String> = e
        .metrics
        .iter()
        .filter(|(k, _)| !k.contains('_') || k.as_str() == "weighted_f1")
        .map(|(k, v)| format!("{} {}", short(k).to_uppercase(), shown(k, *v)))
        .collect();
    lines.push(Line::from(Span::styled(
        metrics.join("  "),
        Style::default().fg(t.accent),
    )));
    f.render_widget(Paragraph::new(lines), inner);
}
