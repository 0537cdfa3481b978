//! The workbench's line chart: curves prepared for the cells they get (window, EMA, log10,
//! min/max buckets), axes with round ticks, sparse series drawn with markers, and a legend
//! above the plot so that it never covers the newest data.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Wrap};

use crate::report::min_max_buckets;
use crate::tui::draw_helpers::{block, duration, note, num};
use crate::tui::series::Series;
use crate::tui::theme::Theme;
use crate::tui::view_state::{MonitorOpts, RECENT_WINDOW, SMOOTHING, XAxis};

/// Points ready to plot against steps: windowed, EMA-smoothed, optionally log10, bucketed
/// to ≤ `max_points`.
pub fn prepare(series: &Series, opts: &MonitorOpts, max_points: usize) -> Vec<(f64, f64)> {
    prepare_on(series, opts, &XScale::Step, max_points)
}

/// How a point's x is read for the chosen axis.
#[derive(Debug, Clone, PartialEq)]
pub enum XScale {
    Step,
    /// Fractional epochs: step / steps per epoch (epoch 1 ends at x = 1).
    Epoch {
        steps_per_epoch: f64,
    },
    /// Seconds since `start` (unix seconds).
    Time {
        start: f64,
    },
}

impl XScale {
    /// The scale for `axis` of a run with `steps_per_epoch` (0 when unknown: the records'
    /// own 0-based epoch + 1) whose first record was written at `start`.
    pub fn new(axis: XAxis, steps_per_epoch: f64, start: f64) -> XScale {
        match axis {
            XAxis::Step => XScale::Step,
            XAxis::Epoch => XScale::Epoch { steps_per_epoch },
            XAxis::Time => XScale::Time { start },
        }
    }
    fn x(&self, step: f64, (epoch, time): (f64, f64)) -> f64 {
        match self {
            XScale::Step => step,
            XScale::Epoch { steps_per_epoch } if *steps_per_epoch > 0.0 => step / steps_per_epoch,
            XScale::Epoch { .. } => epoch + 1.0,
            XScale::Time { start } => (time - start).max(0.0),
        }
    }
    /// An x tick label.
    pub fn label(&self, x: f64) -> String {
        match self {
            XScale::Step => format!("{x:.0}"),
            XScale::Epoch { .. } => {
                if (x - x.round()).abs() < 1e-9 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.1}")
                }
            }
            XScale::Time { .. } => duration(x),
        }
    }
}

/// Like [`prepare`] on the x axis `scale`.
pub fn prepare_on(
    series: &Series,
    opts: &MonitorOpts,
    scale: &XScale,
    max_points: usize,
) -> Vec<(f64, f64)> {
    let last_step = series.last.map(|l| l.0).unwrap_or(0.0);
    let from = if opts.recent {
        last_step - RECENT_WINDOW
    } else {
        f64::MIN
    };
    let alpha = SMOOTHING[opts.smoothing % SMOOTHING.len()];
    let mut ema: Option<f64> = None;
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for ((step, y), when) in series.points_when() {
        let s = match ema {
            Some(e) => alpha * e + (1.0 - alpha) * y,
            None => y,
        };
        ema = Some(s);
        if step < from {
            continue;
        }
        let y = if opts.log_scale {
            if s > 0.0 { s.log10() } else { continue }
        } else {
            s
        };
        pts.push((scale.x(step, when), y));
    }
    min_max_buckets(&pts, max_points)
}

/// One plotted series.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub label: String,
    pub color: Color,
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    pub fn new(label: impl Into<String>, color: Color, points: Vec<(f64, f64)>) -> Curve {
        Curve {
            label: label.into(),
            color,
            points,
        }
    }
}

/// A series with fewer points than this per 10 columns is drawn with markers as well as a
/// line (evaluations once an epoch, a handful of points).
const SPARSE_PER_10_COLS: usize = 4;

/// `(lo, hi, ticks)`: the range widened to round numbers and 3–6 evenly spaced ticks on it
/// (1, 2 or 5 × 10^k apart), so that labels placed evenly read as round values.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> (f64, f64, Vec<f64>) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    };
    let max_ticks = max_ticks.max(2);
    let raw = (hi - lo) / (max_ticks - 1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // The smallest round step (1, 2, 2.5, 5 × 10^k) giving at most `max_ticks` ticks; with
    // few ticks that can take a power of ten more than the raw spacing.
    let step = (0..4)
        .flat_map(|k| [1.0, 2.0, 2.5, 5.0].map(|m| m * mag * 10f64.powi(k)))
        .find(|s| (((hi / s).ceil() - (lo / s).floor()) as usize) < max_ticks)
        .unwrap_or(1e4 * mag);
    let a = (lo / step).floor() * step;
    let b = (hi / step).ceil() * step;
    let n = ((b - a) / step).round() as usize;
    let ticks = (0..=n).map(|i| a + i as f64 * step).collect();
    (a, b, ticks)
}

/// A y tick label: the value, or on a log10 axis the value it stands for (`1e-3` at whole
/// powers, the plain number between them — never a fractional exponent).
pub fn y_label(v: f64, log: bool) -> String {
    if !log {
        return tick_num(v);
    }
    if (v - v.round()).abs() < 1e-9 {
        let p = v.round() as i32;
        if (-2..=3).contains(&p) {
            tick_num(10f64.powi(p))
        } else {
            format!("1e{p}")
        }
    } else {
        tick_num(10f64.powf(v))
    }
}

/// A round tick value in a few characters (`0.25`, `1200`, `2.5e-4`).
fn tick_num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

fn bounds(curves: &[Curve]) -> Option<([f64; 2], [f64; 2])> {
    let mut x = [f64::MAX, f64::MIN];
    let mut y = [f64::MAX, f64::MIN];
    for c in curves {
        for &(a, b) in &c.points {
            x = [x[0].min(a), x[1].max(a)];
            y = [y[0].min(b), y[1].max(b)];
        }
    }
    (x[0] <= x[1]).then_some((x, y))
}

/// A chart of `curves` in a bordered block: a legend line (label and last value of each
/// curve, in its colour) above the plot, round y ticks, x from the first to the last point.
pub fn chart(
    f: &mut Frame,
    area: Rect,
    title: String,
    curves: &[Curve],
    t: &Theme,
    log: bool,
    scale: &XScale,
) {
    let b = block(title, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some((xb, yb)) = bounds(curves) else {
        note(f, inner, "no data yet", t);
        return;
    };
    let shown: Vec<&Curve> = curves.iter().filter(|c| !c.points.is_empty()).collect();
    // The legend: one line when it fits, else wrapped, at most a third of the height.
    let legend: Vec<Span> = shown
        .iter()
        .flat_map(|c| {
            let last = c.points.last().map(|p| p.1).unwrap_or(f64::NAN);
            let value = if log { 10f64.powf(last) } else { last };
            [
                Span::styled("━ ", Style::default().fg(c.color)),
                Span::styled(
                    format!("{} {}  ", c.label, num(value)),
                    Style::default().fg(c.color),
                ),
            ]
        })
        .collect();
    let legend_w: usize = legend.iter().map(|s| s.width()).sum();
    let legend_h = if shown.len() < 2 && legend_w <= inner.width as usize {
        u16::from(inner.height >= 6)
    } else {
        (legend_w.div_ceil(inner.width.max(1) as usize) as u16).min(inner.height / 3)
    };
    let [legend_area, plot] =
        Layout::vertical([Constraint::Length(legend_h), Constraint::Min(0)]).areas(inner);
    if legend_h > 0 {
        f.render_widget(
            Paragraph::new(Line::from(legend)).wrap(Wrap { trim: true }),
            legend_area,
        );
    }
    let max_y_ticks = (plot.height as usize / 3).clamp(2, 6);
    let (ylo, yhi, yticks) = if log {
        let (lo, hi) = (yb[0].floor(), yb[1].ceil());
        if hi - lo >= 1.0 && hi - lo <= 8.0 {
            (
                lo,
                hi,
                (0..=(hi - lo) as usize).map(|i| lo + i as f64).collect(),
            )
        } else {
            nice_ticks(yb[0], yb[1], max_y_ticks)
        }
    } else {
        // A little room around the data, but never below 0 for a series that is not.
        let pad = (yb[1] - yb[0]).abs() * 0.02;
        let lo = if yb[0] >= 0.0 {
            (yb[0] - pad).max(0.0)
        } else {
            yb[0] - pad
        };
        nice_ticks(lo, yb[1] + pad, max_y_ticks)
    };
    // Round x ticks (0, 100, 200 … steps), the axis widened to them: labels placed evenly
    // then stand on round values.
    let x_ticks = (plot.width as usize / 12).clamp(2, 6);
    let (x0, x1, xticks) = nice_ticks(xb[0], xb[1], x_ticks);
    let xs = [x0, x1];
    let x_labels: Vec<Line> = xticks.iter().map(|x| Line::from(scale.label(*x))).collect();
    let sparse_limit = (plot.width as usize * SPARSE_PER_10_COLS / 10).max(2);
    let mut datasets: Vec<Dataset> = Vec::new();
    for c in &shown {
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(c.color))
                .data(&c.points),
        );
        if c.points.len() <= sparse_limit {
            datasets.push(
                Dataset::default()
                    .marker(Marker::Dot)
                    .graph_type(GraphType::Scatter)
                    .style(Style::default().fg(c.color))
                    .data(&c.points),
            );
        }
    }
    let axis_style = Style::default().fg(t.muted);
    let c = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds(xs)
                .style(axis_style)
                .labels(x_labels),
        )
        .y_axis(
            Axis::default()
                .bounds([ylo, yhi])
                .style(axis_style)
                .labels(yticks.iter().map(|v| Line::from(y_label(*v, log)))),
        )
        .hidden_legend_constraints((Constraint::Length(0), Constraint::Length(0)))
        // The plot paints its background (ratatui's default is the terminal's, which left
        // the light theme's charts black).
        .style(Style::default().bg(t.bg));
    f.render_widget(c, plot);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let (lo, hi, t) = nice_ticks(0.113, 0.871, 5);
        assert!(lo <= 0.113 && hi >= 0.871, "{lo} {hi}");
        assert!(t.len() >= 3 && t.len() <= 5, "{t:?}");
        for v in &t {
            let s = tick_num(*v);
            assert!(s.len() <= 4, "{s}");
        }
        let (_, _, t) = nice_ticks(1.0, 1.0, 4);
        assert!(t.len() >= 2);
        let (lo, hi, _) = nice_ticks(1e-6, 2.5e-4, 4);
        assert!(lo <= 1e-6 && hi >= 2.5e-4);
        // A small chart (2 ticks) of a learning rate up to 1.6e-3: 0 to 2e-3, not ±0.01
        // with the curve flat on the middle line.
        let (lo, hi, t) = nice_ticks(0.0, 1.6e-3, 2);
        assert_eq!((lo, t.len()), (0.0, 2), "{t:?}");
        assert!((hi - 2e-3).abs() < 1e-12, "{hi}");
    }

    #[test]
    fn log_labels_never_show_a_fractional_exponent() {
        assert_eq!(y_label(-3.0, true), "1e-3");
        assert_eq!(y_label(0.0, true), "1");
        assert_eq!(y_label(1.0, true), "10");
        let mid = y_label(0.3, true);
        assert!(!mid.contains('e'), "{mid}");
        assert_eq!(mid, "1.9953");
        assert_eq!(y_label(0.25, false), "0.25");
        assert_eq!(y_label(2.5e-4, false), "2.5e-4");
    }

    #[test]
    fn epochs_count_from_one_at_the_end_of_the_first_epoch() {
        let s = XScale::Epoch {
            steps_per_epoch: 10.0,
        };
        assert_eq!(s.x(10.0, (0.0, 0.0)), 1.0);
        assert_eq!(s.x(25.0, (2.0, 0.0)), 2.5);
        let unknown = XScale::Epoch {
            steps_per_epoch: 0.0,
        };
        assert_eq!(unknown.x(25.0, (2.0, 0.0)), 3.0);
        let time = XScale::Time { start: 100.0 };
        assert_eq!(time.x(1.0, (0.0, 160.0)), 60.0);
        assert_eq!(time.label(60.0), "1m00s");
    }
}
