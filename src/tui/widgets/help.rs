//! `?`: every view by name and every key binding of the current view and the global ones.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::action::Action;
use crate::tui::draw::{block, centered, clear};
use crate::tui::keymap::section;
use crate::tui::state::{State, View};

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let r = centered(area, 76, area.height.saturating_sub(2).max(3));
    clear(f, r);
    let key = Style::default().fg(t.accent).add_modifier(Modifier::BOLD);
    let head = Style::default().fg(t.title).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from(Span::styled("Views", head))];
    for v in View::ALL.iter() {
        let keys = state.keymap.keys_for(*v, &Action::for_view(*v)).join(" ");
        let here = if *v == state.gui.view { "  (here)" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<8}"), key),
            Span::raw(format!("{}{here}", v.title())),
        ]));
    }
    let view = state.gui.view;
    for (title, sec) in [
        (format!("{} keys", view.title()), section(view)),
        ("Everywhere".to_string(), "global"),
    ] {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(title, head)));
        let mut by_action: Vec<(Action, Vec<String>)> = Vec::new();
        for (k, a) in state.keymap.bindings(sec) {
            // View switches are listed above; global keys a view rebinds are not global there.
            if a.view().is_some() || state.keymap.action(view, &k) != a {
                continue;
            }
            match by_action.iter_mut().find(|(x, _)| *x == a) {
                Some((_, ks)) => ks.push(k.label()),
                None => by_action.push((a, vec![k.label()])),
            }
        }
        for (a, ks) in by_action {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<12}", ks.join(" ")), key),
                Span::raw(a.help()),
            ]));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Keys come from assets/keymap.toml; put yours in ~/.config/svfap-tui/keymap.toml.",
        Style::default().fg(t.muted),
    )));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(" Help (Esc closes) ", t)),
        r,
    );
}
