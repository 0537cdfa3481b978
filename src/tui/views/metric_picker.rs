//! The Monitor's metric picker (`/`): a box over the curves with the typed query and the
//! metric names that match it, best first, like a fuzzy finder.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use crate::tui::draw_helpers::{block, centered, clear};
use crate::tui::state::State;
use crate::tui::view_state::{MetricPicker, fuzzy_matches};
use crate::tui::views::monitor_curves::metric_names;

pub fn draw(state: &State, p: &MetricPicker, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let names = metric_names(state);
    let matches = fuzzy_matches(&names, &p.query);
    let h = (matches.len() as u16 + 4).clamp(5, 16);
    let r = centered(area, 40, h);
    clear(f, r);
    let b = block(" metric ", t).style(Style::default().bg(t.bg).fg(t.fg));
    let inner = b.inner(r);
    f.render_widget(b, r);
    let [query, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("/ ", Style::default().fg(t.accent)),
            Span::raw(p.query.clone()),
            Span::styled("█", Style::default().fg(t.accent)),
            Span::styled(
                format!("  {}/{}", matches.len(), names.len()),
                Style::default().fg(t.muted),
            ),
        ])),
        query,
    );
    if matches.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "no metric matches",
                Style::default().fg(t.muted),
            )),
            list,
        );
        return;
    }
    let items: Vec<ListItem> = matches
        .iter()
        .map(|n| {
            let current = **n == state.gui.monitor.metric;
            let style = if current {
                Style::default().fg(t.ok)
            } else {
                Style::default().fg(t.fg)
            };
            ListItem::new(Span::styled(n.to_string(), style))
        })
        .collect();
    let sel = Style::default()
        .fg(t.selected_fg)
        .bg(t.selected_bg)
        .add_modifier(Modifier::BOLD);
    let mut ls = ListState::default().with_selected(Some(p.cursor.min(matches.len() - 1)));
    f.render_stateful_widget(List::new(items).highlight_style(sel), list, &mut ls);
}
