//! Monitor: the run's header (and its recipe against the paper's), its curves
//! (`monitor_curves`: one metric, several runs, or a grid), learning rate, throughput, GPU,
//! checkpoints, and the run's log (following its end, or scrolled back), errors
//! highlighted; the metric picker over the curves.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, Paragraph};

use crate::session::log_window::LogPosition;
use crate::train::recipe::{self, RecipeItem};
use crate::tui::draw_helpers::{block, duration, note, note_panel, split};
use crate::tui::gpu::GpuReadings;
use crate::tui::loader::RunLog;
use crate::tui::run_data::RunData;
use crate::tui::state::State;
use crate::tui::view_state::MonitorOpts;
pub use crate::tui::views::chart::prepare;
use crate::tui::views::chart::{Curve, chart, prepare_on};
use crate::tui::views::runs::{bar, epoch_text, state_color};
use crate::tui::views::{metric_picker, monitor_curves};

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let Some(run) = state.selected_run() else {
        let b = block(" Monitor ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(
            f,
            inner,
            "no run selected: launch one from the Runs view",
            t,
        );
        return;
    };
    let recipe = run.recipe.as_ref().filter(|_| area.height >= 20);
    let head_h = if recipe.is_some() { 2 } else { 1 };
    let [head, rest] =
        Layout::vertical([Constraint::Length(head_h), Constraint::Min(0)]).areas(area);
    let [head, recipe_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(head);
    header(state, run, f, head);
    if let Some(items) = recipe {
        recipe_line(state, items, f, recipe_area);
    }
    let side_w = if rest.width >= 70 { 30 } else { 0 };
    let [main, side] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(side_w)]).areas(rest);
    let log_h = log_height(main.height);
    let small_h = if main.height >= 18 { 7 } else { 0 };
    let [curve, small, log] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(small_h),
        Constraint::Length(log_h),
    ])
    .areas(main);
    monitor_curves::draw(state, f, curve);
    if let Some(p) = &state.gui.monitor.picker {
        metric_picker::draw(state, p, f, curve);
    }
    if small_h > 0 {
        let [lr, thr] =
            Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(small);
        let plain = MonitorOpts {
            smoothing: 0,
            log_scale: false,
            recent: state.gui.monitor.recent,
            ..Default::default()
        };
        let w = (lr.width as usize * 2).max(8);
        let scale = monitor_curves::x_scale(run, state.gui.monitor.x_axis);
        let lr_pts = run
            .metrics
            .get("train", "lr")
            .map(|s| prepare_on(s, &plain, &scale, w))
            .unwrap_or_default();
        chart(
            f,
            lr,
            " learning rate ".into(),
            &[Curve::new("lr", t.series_other, lr_pts)],
            t,
            false,
            &scale,
        );
        let thr_pts = run
            .metrics
            .get("train", "clips_per_s")
            .map(|s| prepare_on(s, &plain, &scale, w))
            .unwrap_or_default();
        chart(
            f,
            thr,
            " clips/s ".into(),
            &[Curve::new("clips/s", t.series_other, thr_pts)],
            t,
            false,
            &scale,
        );
    }
    if log_h > 0 {
        log_tail(state, f, log);
    }
    if side_w > 0 {
        let [gpu, ckpt] = Layout::vertical([Constraint::Length(9), Constraint::Min(0)]).areas(side);
        gpu_panel(state, f, gpu);
        checkpoints(state, run, f, ckpt);
    }
}

/// Height of the log pane (with its border) for a chart column `main_height` rows high.
fn log_height(main_height: u16) -> u16 {
    if main_height >= 24 {
        8
    } else if main_height >= 14 {
        4
    } else {
        0
    }
}

/// Log lines the Monitor view shows at once in a terminal of `size`.
pub fn log_rows(size: Rect) -> usize {
    let [_, body, _, _] = split(size);
    log_height(body.height.saturating_sub(1)).saturating_sub(2) as usize
}

/// The log window read for the selected run, once it has come.
pub fn selected_log(state: &State) -> Option<&RunLog> {
    let run = state.selected_run()?;
    state.data.log.as_ref().filter(|l| l.run == run.summary.id)
}

fn header(state: &State, run: &RunData, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let shown = run.shown_state(state.now);
    let st = run.summary.status.as_ref();
    let muted = Style::default().fg(t.muted);
    let mut spans = vec![
        Span::styled(
            format!(" {} ", run.summary.id),
            Style::default().fg(t.title).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            shown.label(),
            Style::default()
                .fg(state_color(t, shown))
                .add_modifier(Modifier::BOLD),
        ),
    ];
    if let Some(s) = st {
        spans.push(Span::styled("  step ", muted));
        spans.push(Span::raw(format!("{}/{}", s.step, s.total_steps)));
        spans.push(Span::styled("  epoch ", muted));
        spans.push(Span::raw(epoch_text(s)));
        spans.push(Span::styled("  clips/s ", muted));
        spans.push(Span::raw(format!("{:.1}", s.throughput)));
        if s.world_size > 1 {
            spans.push(Span::styled(
                format!(" ({} processes)", s.world_size),
                muted,
            ));
        }
        spans.push(Span::styled("  ETA ", muted));
        spans.push(Span::raw(
            s.eta_seconds
                .filter(|_| shown.label() == "running")
                .map(duration)
                .unwrap_or_else(|| "-".into()),
        ));
        if let Some(activity) = s.activity.as_ref().filter(|_| shown.label() == "running") {
            spans.push(Span::styled(
                format!("  {activity}…"),
                Style::default().fg(t.warn),
            ));
        }
    }
    if run.metrics.loading() {
        let pct = run.metrics.bytes_read as f64 / run.metrics.file_len.max(1) as f64 * 100.0;
        spans.push(Span::styled(
            format!("  reading metrics {pct:.0}%"),
            Style::default().fg(t.warn),
        ));
    }
    let mut line = Line::from(spans);
    // On a narrow terminal the id loses its kind (the Runs view's short form) before the
    // ETA at the end is cut.
    if line.width() > area.width as usize
        && let Some((_, stamp, name)) = crate::session::layout::split_run_id(&run.summary.id)
    {
        line.spans[0].content = format!(" {stamp}-{name} ").into();
    }
    f.render_widget(Paragraph::new(line), area);
}

/// The run's departures from the paper's recipe (effective batch, lr, epochs, the rest).
fn recipe_line(state: &State, items: &[RecipeItem], f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let all_match = items.iter().all(|i| i.matches);
    let line = Line::from(vec![
        Span::styled(" vs paper: ", Style::default().fg(t.muted)),
        Span::styled(
            recipe::summary(items),
            Style::default().fg(if all_match { t.ok } else { t.warn }),
        ),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

fn log_tail(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let rows = area.height.saturating_sub(2) as usize;
    let muted = Style::default().fg(t.muted);
    let Some(log) = selected_log(state) else {
        let text = Line::from(Span::styled("reading log.txt…", muted));
        f.render_widget(Paragraph::new(text).block(block(" log.txt ", t)), area);
        return;
    };
    let window = &log.window;
    let lines = window.lines();
    let first = match state.gui.log_position {
        LogPosition::Follow => lines.len().saturating_sub(rows),
        LogPosition::Top(top) => window.index_of(top),
    };
    let items: Vec<Line> = lines
        .iter()
        .skip(first)
        .take(rows)
        .map(|l| {
            let low = l.text.to_lowercase();
            let style = if low.contains("error") || low.contains("panic") || low.contains("failed")
            {
                Style::default().fg(t.error).add_modifier(Modifier::BOLD)
            } else if low.contains("warn") {
                Style::default().fg(t.warn)
            } else {
                Style::default().fg(t.fg)
            };
            Line::from(Span::styled(l.text.clone(), style))
        })
        .collect();
    let text = if lines.is_empty() {
        vec![Line::from(Span::styled("log.txt is empty", muted))]
    } else {
        items
    };
    let where_ = match state.gui.log_position {
        LogPosition::Follow => Span::styled("follow", Style::default().fg(t.ok)),
        LogPosition::Top(top) => {
            let at = if window.start() == 0 {
                let more = if window.reaches_end() { "" } else { "+" };
                format!("line {}/{}{more}", first + 1, lines.len())
            } else {
                let pct = top as f64 / window.file_len().max(1) as f64 * 100.0;
                format!("{pct:.0}% of {:.1} MB", window.file_len() as f64 / 1e6)
            };
            Span::styled(format!("scrolled: {at}"), Style::default().fg(t.warn))
        }
    };
    let title = Line::from(vec![Span::raw(" log.txt ["), where_, Span::raw("] ")]);
    f.render_widget(Paragraph::new(text).block(block(title, t)), area);
}

/// GPUs when NVML reads them; otherwise this machine's CPU and memory, with the reason
/// there are no GPU readings in one short line.
fn gpu_panel(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let muted = Style::default().fg(t.muted);
    let gib = |b: u64| b as f64 / 1073741824.0;
    let bar_w = area.width.saturating_sub(4) as usize;
    let (title, mut lines) = match &state.data.gpu {
        GpuReadings::Devices(devices) => (
            " GPU ",
            devices
                .iter()
                .enumerate()
                .flat_map(|(i, d)| {
                    let mut lines = vec![
                        Line::from(Span::styled(
                            format!("{i}: {}", d.name),
                            Style::default().fg(t.accent),
                        )),
                        Line::from(format!(
                            " util {}%  mem {:.1}/{:.1} GiB",
                            d.util_percent,
                            gib(d.mem_used),
                            gib(d.mem_total)
                        )),
                    ];
                    if let Some(p) = d.power_w {
                        lines.push(Line::from(format!(" power {p:.0} W")));
                    }
                    lines
                })
                .collect(),
        ),
        GpuReadings::NotYet => (" GPU ", vec![Line::from(Span::styled("reading…", muted))]),
        GpuReadings::Unavailable(why) => {
            // The common case in a few words; other reasons as far as they fit.
            let why = if why.contains("libnvidia-ml") || why.contains("libloading") {
                "no NVML library".to_string()
            } else {
                why.clone()
            };
            let short: String = why.chars().take(bar_w.max(8)).collect();
            (
                " machine ",
                vec![Line::from(Span::styled(format!("no GPU: {short}"), muted))],
            )
        }
    };
    if !matches!(state.data.gpu, GpuReadings::Devices(_)) {
        match &state.data.host {
            Some(h) => {
                let cpu = (h.cpu_percent / 100.0).clamp(0.0, 1.0) as f64;
                lines.push(Line::from(format!("CPU · {} cores", h.cores)));
                lines.push(Line::from(Span::styled(
                    bar(Some(cpu), bar_w),
                    Style::default().fg(t.running),
                )));
                lines.push(Line::from(format!(
                    "RAM {:.1}/{:.1} GiB",
                    gib(h.mem_used),
                    gib(h.mem_total)
                )));
                lines.push(Line::from(Span::styled(
                    bar(Some(h.mem_used as f64 / h.mem_total.max(1) as f64), bar_w),
                    Style::default().fg(t.running),
                )));
                lines.push(Line::from(format!("load {:.2}", h.load1)));
            }
            None if matches!(state.data.gpu, GpuReadings::Unavailable(_)) => {
                lines.push(Line::from(Span::styled("CPU/RAM: reading…", muted)))
            }
            None => {}
        }
    }
    f.render_widget(Paragraph::new(lines).block(block(title, t)), area);
}

fn checkpoints(state: &State, run: &RunData, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let latest = run.summary.latest_checkpoint.as_deref();
    let items: Vec<ListItem> = run
        .summary
        .checkpoints
        .iter()
        .rev()
        .map(|c| {
            let is_latest = Some(c.file.as_str()) == latest;
            let style = Style::default().fg(if is_latest { t.ok } else { t.fg });
            ListItem::new(Line::from(Span::styled(
                format!(
                    "{} {:.1} MB{}",
                    c.file.trim_end_matches(".safetensors"),
                    c.bytes as f64 / 1e6,
                    if is_latest { " latest" } else { "" }
                ),
                style,
            )))
        })
        .collect();
    if items.is_empty() {
        note_panel(f, area, " checkpoints ", "none yet", t);
    } else {
        f.render_widget(List::new(items).block(block(" checkpoints ", t)), area);
    }
}
