//! The Inspect view's timeline: each class's probability per window (at the window's middle
//! time) over the video, in the class colours of the probability panel beside it, with the
//! current window marked by a vertical line and its span on the x axis's title.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

use super::chart::{XScale, nice_ticks, y_label};
use crate::session::inspection::Inspection;
use crate::tui::draw_helpers::{block, note};
use crate::tui::theme::Theme;

/// The points of each class: (middle time of the window, value).
pub fn class_points(insp: &Inspection) -> Vec<Vec<(f64, f64)>> {
    let classes = insp.probs.len();
    (0..classes)
        .map(|c| {
            insp.windows
                .iter()
                .map(|w| {
                    let mid = (w.start_s + w.end_s) / 2.0;
                    (mid, w.probs.get(c).copied().unwrap_or(f32::NAN) as f64)
                })
                .filter(|(_, v)| v.is_finite())
                .collect()
        })
        .collect()
}

pub fn timeline(
    f: &mut Frame,
    area: Rect,
    insp: &Inspection,
    current: usize,
    colours: &[Color],
    t: &Theme,
) {
    let b = block(" timeline: class probability per window ", t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    if inner.height < 3 || inner.width < 12 {
        return;
    }
    let points = class_points(insp);
    if points.iter().all(Vec::is_empty) {
        return note(f, inner, "no windows", t);
    }
    let end = insp
        .windows
        .iter()
        .map(|w| w.end_s)
        .fold(0.0f64, f64::max)
        .max(1e-3);
    let (ylo, yhi, yticks) = if insp.regression {
        let (lo, hi) = points
            .iter()
            .flatten()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        nice_ticks(lo, hi.max(lo + 1e-6), 3)
    } else {
        (0.0, 1.0, vec![0.0, 0.5, 1.0])
    };
    let scale = XScale::Time { start: 0.0 };
    let x_ticks = (inner.width as usize / 12).clamp(2, 6);
    let (x0, x1, xticks) = nice_ticks(0.0, end, x_ticks);
    let marker: Vec<(f64, f64)> = insp
        .windows
        .get(current)
        .map(|w| {
            let mid = (w.start_s + w.end_s) / 2.0;
            vec![(mid, ylo), (mid, yhi)]
        })
        .unwrap_or_default();
    let mut datasets: Vec<Dataset> = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(t.muted))
            .data(&marker),
    ];
    for (i, p) in points.iter().enumerate() {
        let colour = colours[i % colours.len().max(1)];
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(colour))
                .data(p),
        );
        // Few windows: a dot on each, so a two-window video does not read as a ramp.
        if p.len() <= inner.width as usize / 4 {
            datasets.push(
                Dataset::default()
                    .marker(Marker::Dot)
                    .graph_type(GraphType::Scatter)
                    .style(Style::default().fg(colour))
                    .data(p),
            );
        }
    }
    let axis = Style::default().fg(t.muted);
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .style(axis)
                .labels(xticks.iter().map(|x| Line::from(scale.label(*x)))),
        )
        .y_axis(
            Axis::default()
                .bounds([ylo, yhi])
                .style(axis)
                .labels(yticks.iter().map(|v| Line::from(y_label(*v, false)))),
        )
        .hidden_legend_constraints((Constraint::Length(0), Constraint::Length(0)))
        .style(Style::default().bg(t.bg));
    f.render_widget(chart, inner);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::inspection::InspectedWindow;

    #[test]
    fn each_class_is_plotted_at_the_middle_of_its_windows() {
        let window = |start: f64, probs: Vec<f32>| InspectedWindow {
            first: 0,
            last: 0,
            frames: vec![],
            start_s: start,
            end_s: start + 2.0,
            probs,
            shown_frame: 0,
            face: None,
        };
        let insp = Inspection {
            format: 1,
            video: "v.mp4".into(),
            checkpoint: "c".into(),
            run: None,
            labels: vec![],
            regression: false,
            fps: 25.0,
            frames: 100,
            frame_size: [64, 64],
            clip_frames: 16,
            clip_stride: 1,
            align: String::new(),
            windows: vec![window(0.0, vec![0.25, 0.75]), window(1.0, vec![0.5, 0.5])],
            probs: vec![0.375, 0.625],
            faces: None,
            warnings: vec![],
            seconds: 0.0,
            written: 0.0,
        };
        let p = class_points(&insp);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], vec![(1.0, 0.25), (2.0, 0.5)]);
        assert_eq!(p[1], vec![(1.0, 0.75), (2.0, 0.5)]);
    }
}
