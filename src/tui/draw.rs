//! `draw(&State)`: header with the views, the current view, status line, footer of keys,
//! and the help / dialog overlays. Drawing never changes the state.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::action::Action;
use super::state::{Level, State, View};
use super::theme::Theme;
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

/// Header, body, status line and footer; the status line only when there is room, so the
/// body (and image areas computed from it) do not move when a message appears.
pub fn split(area: Rect) -> [Rect; 4] {
    let status_h = u16::from(area.height >= 8);
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(status_h),
        Constraint::Length(1),
    ])
    .areas(area)
}

fn draw_header(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let mut spans = vec![Span::styled(
        " svfap-tui ",
        Style::default().fg(t.title).add_modifier(Modifier::BOLD),
    )];
    spans.push(Span::styled(
        format!("{} ", state.session_name),
        Style::default().fg(t.muted),
    ));
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
        spans.push(Span::styled(format!("{} {}", i + 1, v.title()), style));
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

pub fn level_style(t: &Theme, level: Level) -> Style {
    Style::default().fg(match level {
        Level::Info => t.ok,
        Level::Warn => t.warn,
        Level::Error => t.error,
    })
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
    let mut spans = Vec::new();
    let mut push = |keys: Vec<String>, label: &str| {
        if let Some(k) = keys.first() {
            spans.push(Span::styled(format!(" {k}"), key));
            spans.push(Span::styled(format!(" {label}"), text));
        }
    };
    push(state.keymap.keys_for(view, &Action::NextView), "view");
    for a in footer_actions(view) {
        push(state.keymap.keys_for(view, a), short_label(view, a));
    }
    push(state.keymap.keys_for(view, &Action::Help), "help");
    push(state.keymap.keys_for(view, &Action::Quit), "quit");
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A bordered block with the theme's colours.
pub fn block<'a>(title: impl Into<Line<'a>>, t: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(t.border))
        .title(title.into().style(Style::default().fg(t.title)))
}

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A one-line note in the middle of an area (empty states).
pub fn note(f: &mut Frame, area: Rect, text: &str, t: &Theme) {
    let p = Paragraph::new(text.to_string())
        .style(Style::default().fg(t.muted))
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    let h = (text.len() as u16 / area.width.max(1) + 1).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    f.render_widget(p, Rect::new(area.x, y, area.width, h));
}

pub fn clear(f: &mut Frame, area: Rect) {
    f.render_widget(Clear, area);
}

/// `1h02m`, `3m05s`, `12s`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".into();
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// A number in at most ~6 characters.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}
