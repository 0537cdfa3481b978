//! `draw(&State)`: header with the views, the current view, status line, footer of keys,
//! and the help / dialog overlays. Drawing never changes the state.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::action::Action;
use super::draw_helpers::{level_style, split};
use super::state::State;
use super::view::View;
use super::views;

pub fn draw(state: &State, f: &mut Frame) {
    let area = f.area();
    let t = &state.theme;
    f.render_widget(
        Block::default().style(Style::default().bg(t.bg).fg(t.fg)),
        area,
    );
    if area.width == 0 || area.height == 0 {
        return;
    }
    let [header, body, status, footer] = split(area);
    draw_header(state, f, header);
    match state.gui.view {
        View::Runs => views::runs::draw(state, f, body),
        View::Monitor => views::monitor::draw(state, f, body),
        View::Recon => views::recon::draw(state, f, body),
        View::Attention => views::attention::draw(state, f, body),
        View::Compare => views::compare::draw(state, f, body),
        View::Inspect => views::inspect::draw(state, f, body),
    }
    draw_status(state, f, status);
    draw_footer(state, f, footer);
    if let Some(d) = &state.gui.dialog {
        super::widgets::dialog::draw(state, d, f, area);
    }
    if state.gui.help {
        super::widgets::help::draw(state, f, area);
    }
}

fn draw_header(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let tabs_width = |title: fn(View) -> &'static str| -> usize {
        View::ALL
            .iter()
            .map(|v| 3 + title(*v).chars().count())
            .sum()
    };
    let name = format!("{} ", state.session_name);
    let brand = " svfap-tui ";
    let with_name = |title| brand.len() + name.chars().count() + tabs_width(title);
    // On a narrow terminal the long tab titles shorten first, then the session name goes.
    let title = if with_name(View::title) <= area.width as usize {
        View::title
    } else {
        View::short_title
    };
    let mut spans = vec![Span::styled(
        brand,
        Style::default().fg(t.title).add_modifier(Modifier::BOLD),
    )];
    if with_name(title) <= area.width as usize {
        spans.push(Span::styled(name, Style::default().fg(t.muted)));
    }
    for (i, v) in View::ALL.iter().enumerate() {
        let style = if *v == state.gui.view {
            Style::default()
                .fg(t.selected_fg)
                .bg(t.selected_bg)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(t.fg)
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("{} {}", i + 1, title(*v)), style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(state: &State, f: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let t = &state.theme;
    let line = if state.gui.filtering {
        Line::from(vec![
            Span::styled(" filter: ", Style::default().fg(t.accent)),
            Span::raw(state.gui.filter.clone()),
            Span::styled("█", Style::default().fg(t.accent)),
        ])
    } else if let Some((msg, level)) = &state.gui.status {
        Line::from(Span::styled(format!(" {msg}"), level_style(t, *level)))
    } else if !state.gui.busy.is_empty() {
        Line::from(Span::styled(
            format!(" working: {}", state.gui.busy.join(", ")),
            Style::default().fg(t.running),
        ))
    } else {
        Line::default()
    };
    f.render_widget(Paragraph::new(line), area);
}

/// The actions the footer advertises in each view.
pub fn footer_actions(view: View) -> &'static [Action] {
    match view {
        View::Runs => &[
            Action::Launch,
            Action::Stop,
            Action::Resume,
            Action::Duplicate,
            Action::Delete,
            Action::Filter,
            Action::Export,
        ],
        View::Monitor => &[
            Action::NextMetric,
            Action::Smoothing,
            Action::LogScale,
            Action::Window,
            Action::Overlay,
            Action::LogPageUp,
            Action::LogFollow,
            Action::Export,
        ],
        View::Recon => &[
            Action::Left,
            Action::Right,
            Action::Up,
            Action::Down,
            Action::Export,
        ],
        View::Attention => &[
            Action::NextMap,
            Action::NextHead,
            Action::Right,
            Action::Down,
            Action::NextStep,
            Action::Export,
        ],
        View::Compare => &[
            Action::SortNext,
            Action::SortReverse,
            Action::Mark,
            Action::NextEval,
            Action::Export,
        ],
        View::Inspect => &[
            Action::OpenVideo,
            Action::Left,
            Action::Right,
            Action::Down,
            Action::WindowAttention,
            Action::NextMap,
            Action::Export,
        ],
    }
}

fn short_label(view: View, a: &Action) -> &'static str {
    match (view, a) {
        (View::Recon, Action::Left) => "step-",
        (View::Recon, Action::Right) => "step+",
        (View::Recon, Action::Up) => "sample-",
        (View::Recon, Action::Down) => "sample+",
        (View::Attention, Action::Right) => "frame",
        (View::Attention, Action::Down) => "token",
        (View::Inspect, Action::OpenVideo) => "open video",
        (View::Inspect, Action::Left) => "window-",
        (View::Inspect, Action::Right) => "window+",
        (View::Inspect, Action::Down) => "next video",
        (View::Inspect, Action::WindowAttention) => "attention",
        (_, Action::NextMetric) => "metric",
        (_, Action::LogScale) => "log",
        (_, Action::SortNext) => "sort",
        (_, Action::SortReverse) => "reverse",
        (_, Action::NextEval) => "eval",
        (_, Action::NextMap) => "map",
        (_, Action::NextHead) => "head",
        (_, Action::NextStep) => "step",
        (_, Action::LogPageUp) => "scroll log",
        (_, Action::LogFollow) => "follow",
        _ => a.name().unwrap_or(""),
    }
}

fn draw_footer(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let view = state.gui.view;
    let key = Style::default().fg(t.accent).add_modifier(Modifier::BOLD);
    let text = Style::default().fg(t.muted);
    let hint = |a: &Action, label: &str| {
        let k = state.keymap.keys_for(view, a).into_iter().next()?;
        Some((format!(" {k}"), format!(" {label}")))
    };
    let width = |h: &(String, String)| (h.0.chars().count() + h.1.chars().count()) as u16;
    // `view`, `help` and `quit` always show; the view's own keys follow in order while they
    // fit whole (a narrow terminal drops the last ones; `?` lists them all).
    let first: Vec<_> = hint(&Action::NextView, "view").into_iter().collect();
    let last: Vec<_> = [hint(&Action::Help, "help"), hint(&Action::Quit, "quit")]
        .into_iter()
        .flatten()
        .collect();
    let mut room = area
        .width
        .saturating_sub(first.iter().chain(&last).map(width).sum());
    let mut middle = Vec::new();
    for a in footer_actions(view) {
        let Some(h) = hint(a, short_label(view, a)) else {
            continue;
        };
        if width(&h) > room {
            break;
        }
        room -= width(&h);
        middle.push(h);
    }
    let spans: Vec<Span> = first
        .into_iter()
        .chain(middle)
        .chain(last)
        .flat_map(|(k, label)| [Span::styled(k, key), Span::styled(label, text)])
        .collect();
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
