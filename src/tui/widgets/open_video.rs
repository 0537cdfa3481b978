//! The Inspect view's open-a-video dialog: the typed path, the model that will score it,
//! and the completions (or, with nothing typed, the clips of the run's test manifest).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use crate::tui::draw_helpers::{block, centered, clear};
use crate::tui::state::{OpenVideo, State};

pub fn draw(state: &State, d: &OpenVideo, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let r = centered(area, 100, 22);
    clear(f, r);
    let b = block(" Open a video to inspect ", t);
    let inner = b.inner(r);
    f.render_widget(b, r);
    let [model, input, list, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    let muted = Style::default().fg(t.muted);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("scored by ", muted),
            Span::styled(d.model.clone(), Style::default().fg(t.title)),
            Span::styled(" (latest checkpoint; select another run in Runs)", muted),
        ])),
        model,
    );
    // The end of the text stays in view when it is longer than the field.
    let room = (input.width as usize).saturating_sub(8);
    let chars: Vec<char> = d.text.chars().collect();
    let shown: String = chars[chars.len().saturating_sub(room)..].iter().collect();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("path: ", Style::default().fg(t.accent)),
            Span::raw(shown),
            Span::styled("█", Style::default().fg(t.accent)),
        ])),
        input,
    );
    let what = if d.text.is_empty() {
        " clips of the run's test manifest "
    } else {
        " matching folders and videos "
    };
    let items: Vec<ListItem> = d
        .candidates
        .iter()
        .map(|c| ListItem::new(c.clone()))
        .collect();
    let empty = items.is_empty();
    let mut ls = ListState::default().with_selected((!empty).then_some(d.cursor));
    f.render_stateful_widget(
        List::new(items).block(block(what, t)).highlight_style(
            Style::default()
                .bg(t.selected_bg)
                .fg(t.selected_fg)
                .add_modifier(Modifier::BOLD),
        ),
        list,
        &mut ls,
    );
    f.render_widget(
        Paragraph::new(Span::styled(
            "type a path · Tab completes · ↑↓ pick · Enter scores it (or opens the folder) · Esc closes",
            muted,
        )),
        help,
    );
}
