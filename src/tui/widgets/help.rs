//! `?`: every view by name, the current view's keys and the global ones (two columns when
//! the terminal is wide enough), scrolling when taller than the terminal.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::action::Action;
use crate::tui::draw_helpers::{block, centered, clear};
use crate::tui::keymap::section;
use crate::tui::state::State;
use crate::tui::view::View;

/// (action, key labels) bound in `sec` and in effect in `view`.
fn keys(state: &State, view: View, sec: &str) -> Vec<(Action, Vec<String>)> {
    let mut by_action: Vec<(Action, Vec<String>)> = Vec::new();
    for (k, a) in state.keymap.bindings(sec) {
        // View switches are listed with the views; global keys a view rebinds are not global there.
        if a.view().is_some() || state.keymap.action(view, &k) != a {
            continue;
        }
        match by_action.iter_mut().find(|(x, _)| *x == a) {
            Some((_, ks)) => ks.push(k.label()),
            None => by_action.push((a, vec![k.label()])),
        }
    }
    by_action
}

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let two = area.width >= 110;
    let r = centered(
        area,
        if two { 118 } else { 80 },
        area.height.saturating_sub(2).max(3),
    );
    clear(f, r);
    let key = Style::default().fg(t.accent).add_modifier(Modifier::BOLD);
    let head = Style::default().fg(t.title).add_modifier(Modifier::BOLD);
    let view = state.gui.view;
    let entry = |ks: &[String], text: &str| {
        Line::from(vec![
            Span::styled(format!("  {:<11}", ks.join(" ")), key),
            Span::raw(text.to_string()),
        ])
    };
    let mut left: Vec<Line<'static>> = vec![Line::from(Span::styled("Views", head))];
    for v in View::ALL.iter() {
        let ks = state.keymap.keys_for(*v, &Action::for_view(*v));
        let here = if *v == view { "  (here)" } else { "" };
        left.push(entry(&ks, &format!("{}{here}", v.title())));
    }
    left.push(Line::from(""));
    left.push(Line::from(Span::styled(
        format!("{} keys", view.title()),
        head,
    )));
    for (a, ks) in keys(state, view, section(view)) {
        left.push(entry(&ks, a.help()));
    }
    let mut right: Vec<Line<'static>> = vec![Line::from(Span::styled("Everywhere", head))];
    for (a, ks) in keys(state, view, "global") {
        right.push(entry(&ks, a.help()));
    }
    let note = Line::from(Span::styled(
        "Keys: assets/keymap.toml; yours in ~/.config/svfap-tui/keymap.toml",
        Style::default().fg(t.muted),
    ));
    if two {
        left.push(Line::from(""));
        left.push(note);
    } else {
        left.push(Line::from(""));
        left.append(&mut right);
        left.push(Line::from(""));
        left.push(note);
    }
    // Scrolls when taller than the terminal (80×24 shows about half of it at once).
    let inner_w = r.width.saturating_sub(2) / if two { 2 } else { 1 };
    let tallest = rows_of(&left, inner_w).max(rows_of(&right, inner_w));
    let visible = r.height.saturating_sub(2);
    let max_scroll = tallest.saturating_sub(visible);
    let scroll = state.gui.help_scroll.min(max_scroll);
    let title = if max_scroll == 0 {
        " Help (Esc closes) ".to_string()
    } else {
        format!(
            " Help (Esc closes · ↑↓ PgUp PgDn scroll · {}/{}) ",
            scroll + 1,
            max_scroll + 1
        )
    };
    let b = block(title, t);
    let inner = b.inner(r);
    f.render_widget(b, r);
    let para = |lines: Vec<Line<'static>>| {
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
    };
    if two {
        let [l, rr] =
            Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(inner);
        f.render_widget(para(left), l);
        f.render_widget(para(right), rr);
    } else {
        f.render_widget(para(left), inner);
    }
}

/// Rows `lines` take wrapped at `width` columns.
fn rows_of(lines: &[Line], width: u16) -> u16 {
    let width = width.max(1) as usize;
    lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(width) as u16)
        .sum()
}
