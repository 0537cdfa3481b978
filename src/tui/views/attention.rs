//! Attention: block / head / frame selectors, a heat map over the frame, the spatial
//! bottleneck's token assignments and the cross-attention of a chosen bottleneck token.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};
use ratatui_image::protocol::Protocol;

use crate::session::artifacts::AttnMeta;
use crate::session::layout::step_dir_name;
use crate::tui::draw_helpers::{block, note, note_panel, split};
use crate::tui::map_overlay::{GROUP_RGB, Grid, jet, normalised};
use crate::tui::state::State;
use crate::tui::theme::Theme;
use crate::tui::view_state::{AttnOwner, step_back};
use crate::tui::widgets::picture::Picture;

pub fn current_meta(state: &State) -> Option<(PathBuf, AttnMeta)> {
    let run = state.selected_run()?;
    let steps = &run.summary.attn_steps;
    let (_, step) = step_back(steps, state.gui.attn.back)?;
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

/// Where the heat map, the assignment and the cross-attention are drawn (inside their
/// borders, above the legend row) for a terminal of `size`.
pub fn overlay_areas(size: Rect) -> [Rect; 3] {
    let [_, body, _, _] = split(size);
    let [_, _, heat, assign, cross] = areas(body);
    [heat, assign, cross].map(|r| picture_area(Block::bordered().inner(r)))
}

/// A panel's inside without its last row (the legend).
fn picture_area(inner: Rect) -> Rect {
    Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    }
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
            && state
                .selected_run()
                .is_some_and(|r| a.key.owner == AttnOwner::Run(r.summary.id.clone()))
    });
    let muted = Style::default().fg(t.muted);
    let (frames, heads, tokens) = ready
        .map(|a| (a.frames, a.heads, a.tokens))
        .unwrap_or((0, 0, 0));
    let all_steps = state
        .selected_run()
        .map(|r| r.summary.attn_steps.clone())
        .unwrap_or_default();
    let steps = all_steps.len();
    let step_i = step_back(&all_steps, sel.back).map_or(0, |(i, _)| i);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!(" step {} ", meta.step),
                Style::default().fg(t.title).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("({})", one_based(step_i, steps)), muted),
            Span::styled("  head ", muted),
            Span::raw(one_based(sel.head, heads)),
            Span::styled("  frame ", muted),
            Span::raw(one_based(sel.frame.min(frames.saturating_sub(1)), frames)),
            Span::styled("  token ", muted),
            Span::raw(one_based(sel.token, tokens)),
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
            note_panel(f, r, "", "loading…", t);
        }
        return;
    };
    if let Some(e) = &a.error {
        note_panel(f, heat, " heat map ", e, t);
        return;
    }
    let panels = [
        (heat, a.heat.as_ref(), &a.overlays[0], "no heat map"),
        (
            assign,
            a.assign.as_ref(),
            &a.overlays[1],
            "no spatial-bottleneck assignment at this step",
        ),
        (
            cross,
            a.cross.as_ref(),
            &a.overlays[2],
            "no cross-attention at this step",
        ),
    ];
    for (area, g, overlay, empty) in panels {
        panel(state, f, area, g, overlay.as_ref(), empty);
    }
}

/// One map: over the frame through the image protocol when there is a frame, else as
/// coloured cells; its colour scale (or group colours) on the last row.
pub fn panel(
    state: &State,
    f: &mut Frame,
    area: Rect,
    g: Option<&Grid>,
    overlay: Option<&Protocol>,
    empty: &str,
) {
    let t = &state.theme;
    let title = g.map(|g| format!(" {} ", g.label)).unwrap_or_default();
    let b = block(title, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some(g) = g else {
        return note(f, inner, empty, t);
    };
    let picture = picture_area(inner);
    match overlay {
        Some(p) => f.render_widget(Picture::new(p, state.images.blanking), picture),
        None => grid(f, picture, g, t),
    }
    let legend = Rect {
        y: inner.y + inner.height.saturating_sub(1),
        height: inner.height.min(1),
        ..inner
    };
    f.render_widget(Paragraph::new(legend_line(g, overlay.is_some(), t)), legend);
}

/// The colour scale of a heat map (low → high with the values' range), or the colour of
/// each bottleneck group.
fn legend_line(g: &Grid, over_frame: bool, t: &Theme) -> Line<'static> {
    let muted = Style::default().fg(t.muted);
    if g.groups > 0 {
        let mut spans = vec![Span::styled("groups ", muted)];
        for grp in 0..g.groups {
            let [r, gr, b] = GROUP_RGB[grp % GROUP_RGB.len()];
            spans.push(Span::styled("■", Style::default().fg(Color::Rgb(r, gr, b))));
            spans.push(Span::raw(format!("{} ", grp + 1)));
        }
        return Line::from(spans);
    }
    let (lo, hi) = g
        .values
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let mut spans = vec![Span::styled("low ", muted)];
    for i in 0..12 {
        let v = i as f32 / 11.0;
        let colour = if over_frame {
            let [r, gr, b] = jet(v);
            Color::Rgb(r, gr, b)
        } else {
            t.heat(v)
        };
        spans.push(Span::styled("█", Style::default().fg(colour)));
    }
    spans.push(Span::styled(format!(" high  {lo:.3}–{hi:.3}"), muted));
    Line::from(spans)
}

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
                let [r, gr, b] = GROUP_RGB[grp % GROUP_RGB.len()];
                (
                    Color::Rgb(r, gr, b),
                    char::from_digit(((grp + 1) % 36) as u32, 36).unwrap_or('?'),
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

/// `i` of `n` counted from 1 (`3/8`), wrapping like the keys do; `-/0` when there is none.
fn one_based(i: usize, n: usize) -> String {
    if n == 0 {
        "-/0".into()
    } else {
        format!("{}/{n}", i % n + 1)
    }
}
