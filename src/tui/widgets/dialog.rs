//! Dialogs: launch (pick an example config, edit its fields, launch), delete confirmation,
//! and messages (command errors). Esc closes each. The launch dialog shows how the config
//! departs from the paper's recipe before it is launched.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

use crate::train::recipe;
use crate::tui::draw_helpers::{block, centered, clear, level_style};
use crate::tui::launch_config::edited_table;
use crate::tui::state::{Dialog, LaunchDialog, State};

pub fn draw(state: &State, d: &Dialog, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    match d {
        Dialog::Message { title, text, level } => {
            let r = centered(area, 80, (text.lines().count() as u16 + 4).min(16));
            clear(f, r);
            let mut lines: Vec<Line> = text
                .lines()
                .map(|l| Line::from(Span::styled(l.to_string(), level_style(t, *level))))
                .collect();
            lines.push(Line::from(Span::styled(
                "Esc or Enter closes",
                Style::default().fg(t.muted),
            )));
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(format!(" {title} "), t)),
                r,
            );
        }
        Dialog::ConfirmDelete { run_id } => {
            let r = centered(area, 64, 6);
            clear(f, r);
            let lines = vec![
                Line::from(vec![
                    Span::raw("Delete "),
                    Span::styled(
                        run_id.clone(),
                        Style::default().fg(t.error).add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(" and all its files?"),
                ]),
                Line::from(""),
                Line::from(Span::styled(
                    "Enter or y deletes, Esc or n keeps it",
                    Style::default().fg(t.muted),
                )),
            ];
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(" Delete run ", t)),
                r,
            );
        }
        Dialog::Launch(l) => launch(state, l, f, area),
        Dialog::OpenVideo(d) => super::open_video::draw(state, d, f, area),
    }
}

/// Where a config file comes from, short: `<session>/configs`, `~/.config/svfap-tui/configs`,
/// or the last folder of another place (`…/assets`).
fn origin_label(path: &std::path::Path, session: &std::path::Path) -> String {
    let dir = path.parent().unwrap_or(path);
    if let Ok(rest) = dir.strip_prefix(session) {
        return format!("<session>/{}", rest.display());
    }
    if let Some(home) = std::env::var_os("HOME")
        && let Ok(rest) = dir.strip_prefix(&home)
    {
        return format!("~/{}", rest.display());
    }
    dir.file_name().map_or(dir.display().to_string(), |n| {
        format!("…/{}", n.to_string_lossy())
    })
}

/// The recipe check of the config as it will be launched (the picked one with its edited
/// fields, or the one under the cursor): its departures from the paper's recipe.
fn recipe_lines(state: &State, d: &LaunchDialog, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let table = match d.picked {
        None => state
            .data
            .examples
            .get(d.cursor)
            .and_then(|e| e.value.clone()),
        Some(i) => state
            .data
            .examples
            .get(i)
            .and_then(|e| edited_table(e, &d.fields).ok()),
    };
    let Some(items) = table.and_then(|t| recipe::check_value(&toml::Value::Table(t))) else {
        return;
    };
    let all_match = items.iter().all(|i| i.matches);
    let style = Style::default().fg(if all_match { t.ok } else { t.warn });
    let text = Line::from(vec![
        Span::styled("vs paper: ", Style::default().fg(t.muted)),
        Span::styled(recipe::summary(&items), style),
    ]);
    f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

fn launch(state: &State, d: &LaunchDialog, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let r = centered(area, 80, 24);
    clear(f, r);
    let sel = Style::default().bg(t.selected_bg).fg(t.selected_fg);
    let b = block(" Launch a run ", t);
    let inner = b.inner(r);
    f.render_widget(b, r);
    let [body, recipe_area, err, help] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let muted = Style::default().fg(t.muted);
    recipe_lines(state, d, f, recipe_area);
    match d.picked {
        None => {
            let items: Vec<ListItem> = state
                .data
                .examples
                .iter()
                .map(|e| {
                    let style = if e.value.is_none() {
                        Style::default().fg(t.error)
                    } else {
                        Style::default().fg(t.fg)
                    };
                    let origin = match &e.path {
                        None => "built-in".to_string(),
                        Some(p) => origin_label(p, &state.session.root),
                    };
                    ListItem::new(Line::from(vec![
                        Span::styled(format!("{:<9}", e.kind), Style::default().fg(t.accent)),
                        Span::styled(format!("{:<24}", e.name), style),
                        Span::styled(format!(" {origin}"), muted),
                    ]))
                })
                .collect();
            let mut ls = ListState::default().with_selected(Some(d.cursor));
            f.render_stateful_widget(List::new(items).highlight_style(sel), body, &mut ls);
            f.render_widget(
                Paragraph::new(Span::styled(
                    "↑↓ choose · Enter edit fields · Esc cancel",
                    muted,
                )),
                help,
            );
        }
        Some(i) => {
            let name = state
                .data
                .examples
                .get(i)
                .map(|e| e.name.clone())
                .unwrap_or_default();
            let mut items: Vec<ListItem> = d
                .fields
                .iter()
                .enumerate()
                .map(|(j, fl)| {
                    let editing = d.editing && j == d.field_cursor;
                    let value = if editing {
                        format!("{}█", fl.value)
                    } else {
                        fl.value.clone()
                    };
                    let mut spans = vec![
                        Span::styled(format!("{:<28}", fl.path), muted),
                        Span::raw(value),
                    ];
                    if let Some(e) = &fl.error {
                        spans.push(Span::styled(
                            format!("  ✗ {e}"),
                            Style::default().fg(t.error),
                        ));
                    }
                    ListItem::new(Line::from(spans))
                })
                .collect();
            items.push(ListItem::new(Line::from(Span::styled(
                format!("▶ launch {name}"),
                Style::default().fg(t.ok).add_modifier(Modifier::BOLD),
            ))));
            let mut ls = ListState::default().with_selected(Some(d.field_cursor));
            f.render_stateful_widget(List::new(items).highlight_style(sel), body, &mut ls);
            let h = if d.editing {
                "type · Enter done"
            } else {
                "↑↓ field · Enter edit / launch · Esc back"
            };
            f.render_widget(Paragraph::new(Span::styled(h, muted)), help);
        }
    }
    if let Some(e) = &d.error {
        f.render_widget(
            Paragraph::new(Span::styled(e.clone(), Style::default().fg(t.error))),
            err,
        );
    }
}
