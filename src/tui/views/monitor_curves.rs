//! The Monitor's curves: the chosen metric of the selected run (train and validation), or
//! of the selected and the marked runs together (one colour each), or a grid of several
//! metrics; on steps, epochs or wall time.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;

use crate::tui::run_data::RunData;
use crate::tui::state::State;
use crate::tui::theme::Theme;
use crate::tui::view_state::{MonitorOpts, RECENT_WINDOW, SMOOTHING, XAxis};
use crate::tui::views::chart::{Curve, XScale, chart, prepare_on};

/// Series the Monitor draws in their own small charts, not offered as the main metric.
const SIDE_SERIES: [&str; 2] = ["lr", "clips_per_s"];

/// The metric names of the runs shown (the selected and the marked), loss first.
pub fn metric_names(state: &State) -> Vec<String> {
    let mut names: Vec<String> = state
        .overlay_runs()
        .iter()
        .flat_map(|r| r.metrics.names())
        .filter(|n| !SIDE_SERIES.contains(&n.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names.sort_by_key(|n| (n != "loss", n.clone()));
    names
}

/// Colours for overlaid runs, from the theme, without repeats.
pub fn run_palette(t: &Theme) -> Vec<Color> {
    let mut out: Vec<Color> = Vec::new();
    for c in [
        t.series_train,
        t.series_val,
        t.series_other,
        t.ok,
        t.title,
        t.error,
        t.running,
        t.accent,
    ] {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The x scale of `run` for `axis`: steps per epoch from its status, start time from its
/// first record.
pub fn x_scale(run: &RunData, axis: XAxis) -> XScale {
    let per_epoch = run
        .summary
        .status
        .as_ref()
        .filter(|s| s.total_epochs > 0 && s.total_steps > 0)
        .map_or(0.0, |s| s.total_steps as f64 / s.total_epochs as f64);
    let start = run
        .metrics
        .series
        .iter()
        .filter_map(|(_, s)| s.when.first().map(|w| w.1))
        .filter(|t| *t > 0.0)
        .fold(f64::INFINITY, f64::min);
    XScale::new(axis, per_epoch, if start.is_finite() { start } else { 0.0 })
}

/// A short label for a run among `others`: the name after its kind and start time
/// (`lr1e-3` of `finetune-20251231-220000-lr1e-3`), or the whole id when that is ambiguous.
pub fn short_label(id: &str, others: &[&str]) -> String {
    fn tail(id: &str) -> &str {
        let parts: Vec<&str> = id.splitn(4, '-').collect();
        match parts.as_slice() {
            [_, date, time, name]
                if date.len() == 8
                    && time.len() == 6
                    && date.bytes().chain(time.bytes()).all(|b| b.is_ascii_digit()) =>
            {
                name
            }
            _ => id,
        }
    }
    let mine = tail(id);
    if others.iter().filter(|o| tail(o) == mine).count() > 1 {
        id.to_string()
    } else {
        mine.to_string()
    }
}

/// The split a run's curve shows when several runs share a chart: validation (or test)
/// where the run has it, else training.
fn primary_split(run: &RunData, name: &str) -> Option<&'static str> {
    ["val", "test", "train"]
        .into_iter()
        .find(|s| run.metrics.get(s, name).is_some())
}

fn flags(opts: &MonitorOpts, runs: usize) -> String {
    let mut flags = vec![];
    let ema = SMOOTHING[opts.smoothing % SMOOTHING.len()];
    if ema > 0.0 {
        flags.push(format!("EMA {ema}"));
    }
    if opts.log_scale {
        flags.push("log".into());
    }
    flags.push(if opts.recent {
        format!("last {RECENT_WINDOW:.0} steps")
    } else {
        format!("x: {}", opts.x_axis.label())
    });
    if runs > 1 {
        flags.push(format!("{runs} runs"));
    } else {
        flags.push(if opts.overlay { "train+val" } else { "train" }.into());
    }
    flags.join(" · ")
}

/// The curves of metric `name`: train/val/test of one run, or one curve per run.
fn curves_of(state: &State, runs: &[&RunData], name: &str, width: usize) -> Vec<Curve> {
    let t = &state.theme;
    let opts = &state.gui.monitor;
    let scale = x_scale(runs[0], opts.x_axis);
    if runs.len() == 1 {
        let run = runs[0];
        let mut out = Vec::new();
        for (split, color) in [
            ("train", t.series_train),
            ("val", t.series_val),
            ("test", t.series_other),
        ] {
            if split != "train" && !opts.overlay && run.metrics.get("train", name).is_some() {
                continue;
            }
            if let Some(s) = run.metrics.get(split, name) {
                out.push(Curve::new(split, color, prepare_on(s, opts, &scale, width)));
            }
        }
        return out;
    }
    let ids: Vec<&str> = runs.iter().map(|r| r.id()).collect();
    let palette = run_palette(t);
    runs.iter()
        .enumerate()
        .filter_map(|(i, run)| {
            let split = primary_split(run, name)?;
            let s = run.metrics.get(split, name)?;
            let scale = x_scale(run, opts.x_axis);
            let label = format!("{} {split}", short_label(run.id(), &ids));
            Some(Curve::new(
                label,
                palette[i % palette.len()],
                prepare_on(s, opts, &scale, width),
            ))
        })
        .collect()
}

/// The main chart area: the chosen metric, or a grid of up to six metrics.
pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let runs = state.overlay_runs();
    if runs.is_empty() {
        return;
    }
    let opts = &state.gui.monitor;
    let names = metric_names(state);
    let chosen = opts
        .chosen(&names)
        .cloned()
        .unwrap_or_else(|| "loss".into());
    let scale = x_scale(runs[0], opts.x_axis);
    if !opts.grid || names.len() < 2 {
        let at = names.iter().position(|n| *n == chosen).map_or(0, |i| i + 1);
        let title = format!(
            " {chosen} [{at}/{}] · {} ",
            names.len().max(1),
            flags(opts, runs.len())
        );
        let curves = curves_of(state, &runs, &chosen, (area.width as usize * 2).max(8));
        chart(
            f,
            area,
            title,
            &curves,
            &state.theme,
            opts.log_scale,
            &scale,
        );
        return;
    }
    // The grid: the chosen metric first, then the others in order.
    let mut shown: Vec<&String> = vec![&chosen];
    shown.extend(names.iter().filter(|n| **n != chosen));
    shown.truncate(6);
    let cols = if area.width >= 150 && shown.len() > 4 {
        3
    } else {
        2
    };
    let rows = shown.len().div_ceil(cols);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    for (r, row) in row_areas.iter().enumerate() {
        let cells = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row);
        for (c, cell) in cells.iter().enumerate() {
            let Some(name) = shown.get(r * cols + c) else {
                continue;
            };
            let curves = curves_of(state, &runs, name, (cell.width as usize * 2).max(8));
            let title = if r == 0 && c == 0 {
                format!(" {name} · {} ", flags(opts, runs.len()))
            } else {
                format!(" {name} ")
            };
            chart(
                f,
                *cell,
                title,
                &curves,
                &state.theme,
                opts.log_scale,
                &scale,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_labels_drop_kind_and_time_unless_that_makes_them_ambiguous() {
        let ids = [
            "finetune-20251231-220000-lr1e-3",
            "finetune-20251231-220000-lr5e-4",
        ];
        assert_eq!(short_label(ids[0], &ids), "lr1e-3");
        let same = ["finetune-20251231-220000-a", "pretrain-20251231-230000-a"];
        assert_eq!(short_label(same[0], &same), same[0]);
        assert_eq!(short_label("my-run", &["my-run"]), "my-run");
    }
}
