//! Attention: block / head / frame selectors, a heat map over the frame, the spatial
//! bottleneck's token assignments and the cross-attention of a chosen bottleneck token.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};
use ratatui_image::Image;

use crate::session::artifacts::AttnMeta;
use crate::session::layout::step_dir_name;
use crate::tui::draw_helpers::{block, note, split};
use crate::tui::imager::{Grid, normalised};
use crate::tui::state::State;
use crate::tui::theme::Theme;

pub fn current_meta(state: &State) -> Option<(PathBuf, AttnMeta)> {
    let run = state.selected_run()?;
    let steps = &run.summary.attn_steps;
    let step = *steps.get(state.gui.attn.step.min(steps.len().checked_sub(1)?))?;
    let dir = run.summary.root.join("attn").join(step_dir_name(step));
    AttnMeta::read(&dir).ok().map(|m| (dir, m))
}

/// (head line, maps list, heat-over-frame, assignment, cross-attention)
fn areas(body: Rect) -> [Rect; 5] {
    let [head, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
    let list_w = if rest.width > 70 { 30 } else { 0 };
    let [list, right] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(0)]).areas(rest);
    let [heat, side] =
        Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(right);
    let [assign, cross] =
        Layout::vertical([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(side);
    [head, list, heat, assign, cross]
}

/// Where the heat-over-frame image goes for a terminal of `size`.
pub fn overlay_area(size: Rect) -> Rect {
    let [_, body, _, _] = split(size);
    Block::bordered().inner(areas(body)[2])
}

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let [head, list, heat, assign, cross] = areas(area);
    let Some((_, meta)) = current_meta(state) else {
        let b = block(" Attention ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        let msg = match state.selected_run() {
            None => "no run selected",
            Some(r) if r.summary.attn_steps.is_empty() => {
                "no attention maps yet: runs write attn/step-N/ at their artifact cadence"
            }
            Some(_) => "reading attention maps…",
        };
        note(f, inner, msg, t);
        return;
    };
    let sel = &state.gui.attn;
    let map_i = sel.map.min(meta.maps.len().saturating_sub(1));
    let ready = state.images.attn.as_ref().filter(|a| {
        a.key.step == meta.step
            && a.key.run
                == state
                    .selected_run()
                    .map(|r| r.summary.id.clone())
                    .unwrap_or_default()
    });
    let muted = Style::default().fg(t.muted);
    let (frames, heads, tokens) = ready
        .map(|a| (a.frames, a.heads, a.tokens))
        .unwrap_or((0, 0, 0));
    let steps = state
        .selected_run()
        .map(|r| r.summary.attn_steps.len())
        .unwrap_or(0);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!(" step {} ", meta.step),
                Style::default().fg(t.title).add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("({}/{})", sel.step.min(steps.saturating_sub(1)) + 1, steps),
                muted,
            ),
            Span::styled("  head ", muted),
            Span::raw(format!("{}/{}", sel.head % heads.max(1), heads)),
            Span::styled("  frame ", muted),
            Span::raw(format!(
                "{}/{}",
                sel.frame.min(frames.saturating_sub(1)),
                frames
            )),
            Span::styled("  token ", muted),
            Span::raw(format!(
                "{}/{}",
                if tokens > 0 { sel.token % tokens } else { 0 },
                tokens
            )),
        ])),
        head,
    );
    if list.width > 0 {
        let items: Vec<ListItem> = meta
            .maps
            .iter()
            .map(|m| {
                ListItem::new(format!(
                    "b{:02} s{} {:<10} {}",
                    m.block, m.stage, m.kind, m.queries
                ))
            })
            .collect();
        let mut ls = ListState::default().with_selected(Some(map_i));
        f.render_stateful_widget(
            List::new(items)
                .block(block(" maps ", t))
                .highlight_style(Style::default().bg(t.selected_bg).fg(t.selected_fg)),
            list,
            &mut ls,
        );
    }
    let Some(a) = ready else {
        for r in [heat, assign, cross] {
            let b = block("", t);
            let inner = b.inner(r);
            f.render_widget(b, r);
            note(f, inner, "loading…", t);
        }
        return;
    };
    if let Some(e) = &a.error {
        let b = block(" heat map ", t);
        let inner = b.inner(heat);
        f.render_widget(b, heat);
        note(f, inner, e, t);
    } else {
        let title = a
            .heat
            .as_ref()
            .map(|g| format!(" {} ", g.label))
            .unwrap_or_default();
        let b = block(title, t);
        let inner = b.inner(heat);
        f.render_widget(b, heat);
        match (&a.overlay, &a.heat) {
            (Some(p), _) => f.render_widget(Image::new(p), inner),
            (None, Some(g)) => grid(f, inner, g, t),
            _ => note(f, inner, "no heat map", t),
        }
    }
    panel(
        f,
        assign,
        a.assign.as_ref(),
        "no spatial-bottleneck assignment at this step",
        t,
    );
    panel(
        f,
        cross,
        a.cross.as_ref(),
        "no cross-attention at this step",
        t,
    );
}

fn panel(f: &mut Frame, area: Rect, g: Option<&Grid>, empty: &str, t: &Theme) {
    let title = g.map(|g| format!(" {} ", g.label)).unwrap_or_default();
    let b = block(title, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    match g {
        Some(g) => grid(f, inner, g, t),
        None => note(f, inner, empty, t),
    }
}

/// Distinct colours for assignment groups.
pub const GROUP_COLORS: [Color; 8] = [
    Color::Rgb(230, 25, 75),
    Color::Rgb(60, 180, 75),
    Color::Rgb(255, 225, 25),
    Color::Rgb(0, 130, 200),
    Color::Rgb(245, 130, 48),
    Color::Rgb(145, 30, 180),
    Color::Rgb(70, 240, 240),
    Color::Rgb(240, 50, 230),
];

/// Draws a grid as coloured cells: heat (theme's heat colours) or groups (palette + digit).
pub fn grid(f: &mut Frame, area: Rect, g: &Grid, t: &Theme) {
    if g.w == 0 || g.h == 0 || area.width == 0 || area.height == 0 {
        return;
    }
    let cw = (area.width as usize / g.w).max(1);
    let ch = (area.height as usize / g.h).max(1);
    let norm = if g.groups == 0 {
        normalised(&g.values)
    } else {
        Vec::new()
    };
    let buf = f.buffer_mut();
    for gy in 0..g.h {
        for gx in 0..g.w {
            let i = gy * g.w + gx;
            let (bg, text) = if g.groups > 0 {
                let grp = g.values[i] as usize;
                (
                    GROUP_COLORS[grp % GROUP_COLORS.len()],
                    char::from_digit((grp % 36) as u32, 36).unwrap_or('?'),
                )
            } else {
                (t.heat(norm[i]), ' ')
            };
            for dy in 0..ch {
                for dx in 0..cw {
                    let x = area.x as usize + gx * cw + dx;
                    let y = area.y as usize + gy * ch + dy;
                    if x >= (area.x + area.width) as usize || y >= (area.y + area.height) as usize {
                        continue;
                    }
                    if let Some(cell) = buf.cell_mut((x as u16, y as u16)) {
                        cell.set_bg(bg);
                        cell.set_fg(Color::Black);
                        cell.set_char(if dx == cw / 2 && dy == ch / 2 {
                            text
                        } else {
                            ' '
                        });
                    }
                }
            }
        }
    }
}
