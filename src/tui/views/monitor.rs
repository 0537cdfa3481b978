//! Monitor: loss and metric curves (EMA smoothing, log scale, full vs recent window,
//! train vs val overlay), learning rate, throughput, ETA, GPU, checkpoints, and the run's
//! log (following its end, or scrolled back), errors highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, List, ListItem, Paragraph, Wrap};

use crate::session::log_window::LogPosition;
use crate::tui::draw_helpers::{block, duration, note, num, split};
use crate::tui::loader::RunLog;
use crate::tui::state::{
    GpuReadings, MonitorOpts, RECENT_WINDOW, RunData, SMOOTHING, Series, State,
};
use crate::tui::views::runs::state_color;

/// Points ready to plot: windowed, EMA-smoothed, optionally log10, bucketed to ≤ `max_points`.
pub fn prepare(series: &Series, opts: &MonitorOpts, max_points: usize) -> Vec<(f64, f64)> {
    let last_x = series.last.map(|l| l.0).unwrap_or(0.0);
    let from = if opts.recent {
        last_x - RECENT_WINDOW
    } else {
        f64::MIN
    };
    let alpha = SMOOTHING[opts.smoothing % SMOOTHING.len()];
    let mut ema: Option<f64> = None;
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for (x, y) in series.points_with_last() {
        let s = match ema {
            Some(e) => alpha * e + (1.0 - alpha) * y,
            None => y,
        };
        ema = Some(s);
        if x < from {
            continue;
        }
        let y = if opts.log_scale {
            if s > 0.0 { s.log10() } else { continue }
        } else {
            s
        };
        pts.push((x, y));
    }
    bucket(&pts, max_points)
}

/// Keeps the first, min, max and last point of each of `max_points / 2` buckets (in x order).
pub fn bucket(pts: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if pts.len() <= max_points || max_points < 4 {
        return pts.to_vec();
    }
    let buckets = max_points / 2;
    let size = pts.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(max_points + 2);
    for chunk in pts.chunks(size) {
        let (mut lo, mut hi) = (chunk[0], chunk[0]);
        for &p in chunk {
            if p.1 < lo.1 {
                lo = p;
            }
            if p.1 > hi.1 {
                hi = p;
            }
        }
        if lo.0 <= hi.0 {
            out.push(lo);
            out.push(hi);
        } else {
            out.push(hi);
            out.push(lo);
        }
    }
    out
}

fn bounds(sets: &[&[(f64, f64)]]) -> ([f64; 2], [f64; 2]) {
    let mut x = [f64::MAX, f64::MIN];
    let mut y = [f64::MAX, f64::MIN];
    for s in sets {
        for &(a, b) in s.iter() {
            x = [x[0].min(a), x[1].max(a)];
            y = [y[0].min(b), y[1].max(b)];
        }
    }
    if x[0] > x[1] {
        return ([0.0, 1.0], [0.0, 1.0]);
    }
    if x[0] == x[1] {
        x[1] = x[0] + 1.0;
    }
    if y[0] == y[1] {
        y = [y[0] - 0.5, y[1] + 0.5];
    }
    let pad = (y[1] - y[0]) * 0.05;
    let lo = if y[0] >= 0.0 {
        (y[0] - pad).max(0.0)
    } else {
        y[0] - pad
    };
    (x, [lo, y[1] + pad])
}

/// One plotted series: label, colour, points.
pub type Curve = (String, Color, Vec<(f64, f64)>);

/// A line chart of `(label, colour, points)` series.
pub fn chart(f: &mut Frame, area: Rect, title: String, sets: &[Curve], state: &State, log: bool) {
    let t = &state.theme;
    let refs: Vec<&[(f64, f64)]> = sets.iter().map(|s| s.2.as_slice()).collect();
    if refs.iter().all(|r| r.is_empty()) {
        let b = block(title, t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(f, inner, "no data yet", t);
        return;
    }
    let (xb, yb) = bounds(&refs);
    let ylab = |v: f64| if log { format!("1e{v:.1}") } else { num(v) };
    let datasets: Vec<Dataset> = sets
        .iter()
        .filter(|s| !s.2.is_empty())
        .map(|(name, color, pts)| {
            Dataset::default()
                .name(name.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(*color))
                .data(pts)
        })
        .collect();
    let axis_style = Style::default().fg(t.muted);
    let c = Chart::new(datasets)
        .block(block(title, t))
        .x_axis(Axis::default().bounds(xb).style(axis_style).labels([
            Line::from(format!("{:.0}", xb[0])),
            Line::from(format!("{:.0}", xb[1])),
        ]))
        .y_axis(
            Axis::default()
                .bounds(yb)
                .style(axis_style)
                .labels([Line::from(ylab(yb[0])), Line::from(ylab(yb[1]))]),
        )
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)));
    f.render_widget(c, area);
}

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
    let [head, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    header(state, run, f, head);
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
    main_chart(state, run, f, curve);
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
        let lr_pts = run
            .metrics
            .get("train", "lr")
            .map(|s| prepare(s, &plain, w))
            .unwrap_or_default();
        chart(
            f,
            lr,
            " learning rate ".into(),
            &[("lr".into(), t.series_other, lr_pts)],
            state,
            false,
        );
        let thr_pts = run
            .metrics
            .get("train", "clips_per_s")
            .map(|s| prepare(s, &plain, w))
            .unwrap_or_default();
        chart(
            f,
            thr,
            " clips/s ".into(),
            &[("clips/s".into(), t.series_other, thr_pts)],
            state,
            false,
        );
    }
    if log_h > 0 {
        log_tail(state, f, log);
    }
    if side_w > 0 {
        let [gpu, ckpt] = Layout::vertical([Constraint::Length(8), Constraint::Min(0)]).areas(side);
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
        spans.push(Span::raw(format!("{}/{}", s.epoch, s.total_epochs)));
        spans.push(Span::styled("  clips/s ", muted));
        spans.push(Span::raw(format!("{:.1}", s.throughput)));
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
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn main_chart(state: &State, run: &RunData, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let opts = &state.gui.monitor;
    let names: Vec<String> = run
        .metrics
        .names()
        .into_iter()
        .filter(|n| n != "lr" && n != "clips_per_s")
        .collect();
    let name = if names.is_empty() {
        "loss".to_string()
    } else {
        names[opts.metric % names.len()].clone()
    };
    let w = (area.width as usize * 2).max(8);
    let mut sets = Vec::new();
    for (split, color) in [
        ("train", t.series_train),
        ("val", t.series_val),
        ("test", t.series_other),
    ] {
        if split != "train" && !opts.overlay && run.metrics.get("train", &name).is_some() {
            continue;
        }
        if let Some(s) = run.metrics.get(split, &name) {
            let last = s.last.map(|l| num(l.1)).unwrap_or_default();
            sets.push((format!("{split} {last}"), color, prepare(s, opts, w)));
        }
    }
    let mut flags = vec![];
    if SMOOTHING[opts.smoothing % SMOOTHING.len()] > 0.0 {
        flags.push(format!(
            "EMA {}",
            SMOOTHING[opts.smoothing % SMOOTHING.len()]
        ));
    }
    if opts.log_scale {
        flags.push("log".into());
    }
    flags.push(if opts.recent {
        format!("last {RECENT_WINDOW:.0} steps")
    } else {
        "all steps".into()
    });
    flags.push(if opts.overlay {
        "train+val".into()
    } else {
        "train".into()
    });
    let title = format!(
        " {name} [{}/{}] · {} ",
        (opts.metric % names.len().max(1)) + 1,
        names.len().max(1),
        flags.join(" · ")
    );
    chart(f, area, title, &sets, state, opts.log_scale);
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

fn gpu_panel(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let muted = Style::default().fg(t.muted);
    let lines = match &state.data.gpu {
        GpuReadings::NotYet => vec![Line::from(Span::styled("reading…", muted))],
        GpuReadings::Unavailable(why) => vec![
            Line::from(Span::styled("unavailable", muted)),
            Line::from(Span::styled(why.clone(), muted)),
        ],
        GpuReadings::Devices(devices) => devices
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
                        d.mem_used as f64 / 1073741824.0,
                        d.mem_total as f64 / 1073741824.0
                    )),
                ];
                if let Some(p) = d.power_w {
                    lines.push(Line::from(format!(" power {p:.0} W")));
                }
                lines
            })
            .collect(),
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" GPU ", t)),
        area,
    );
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
            let mark = if Some(c.file.as_str()) == latest {
                "* "
            } else {
                "  "
            };
            let style = if mark == "* " {
                Style::default().fg(t.ok)
            } else {
                Style::default().fg(t.fg)
            };
            ListItem::new(Line::from(Span::styled(
                format!(
                    "{mark}{} {:.1} MB",
                    c.file.trim_end_matches(".safetensors"),
                    c.bytes as f64 / 1e6
                ),
                style,
            )))
        })
        .collect();
    if items.is_empty() {
        let b = block(" checkpoints ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        note(f, inner, "none yet", t);
    } else {
        f.render_widget(List::new(items).block(block(" checkpoints ", t)), area);
    }
}
