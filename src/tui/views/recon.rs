//! Reconstructions: step slider, sample picker, original / masked / reconstructed frames
//! side by side for all frames, per-sample reconstruction error. The image is composed and
//! encoded off the UI thread (see `imager`).

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use crate::session::artifacts::ReconMeta;
use crate::session::layout::step_dir_name;
use crate::tui::draw_helpers::{block, note, split};
use crate::tui::state::State;
use crate::tui::view_state::step_back;
use crate::tui::widgets::picture::Picture;

/// The selected run's recon folder and meta at the selected step.
pub fn current_meta(state: &State) -> Option<(PathBuf, ReconMeta)> {
    let run = state.selected_run()?;
    let steps = &run.summary.recon_steps;
    let (_, step) = step_back(steps, state.gui.recon.back)?;
    let dir = run.summary.root.join("recon").join(step_dir_name(step));
    ReconMeta::read(&dir).ok().map(|m| (dir, m))
}

const LIST_W: u16 = 24;
const LABEL_W: u16 = 9;

fn areas(body: Rect) -> (Rect, Rect, Rect, Rect) {
    let [head, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
    let list_w = if rest.width > 60 { LIST_W } else { 0 };
    let [list, frames] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(0)]).areas(rest);
    let inner = ratatui::widgets::Block::bordered().inner(frames);
    let [_, image] = Layout::horizontal([
        Constraint::Length(LABEL_W.min(inner.width / 3)),
        Constraint::Min(0),
    ])
    .areas(inner);
    (head, list, frames, image)
}

/// Where the frames image goes for a terminal of `size` (the app asks the imager for it).
pub fn image_area(size: Rect) -> Rect {
    let [_, body, _, _] = split(size);
    areas(body).3
}

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let run = state.selected_run();
    let steps = run
        .map(|r| r.summary.recon_steps.clone())
        .unwrap_or_default();
    let (head, list, frames, image) = areas(area);
    let Some((_, meta)) = current_meta(state) else {
        let b = block(" Reconstructions ", t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        let msg = match run {
            None => "no run selected",
            Some(_) if steps.is_empty() => {
                "no reconstructions yet: pre-training runs write recon/step-N/ at their artifact cadence"
            }
            Some(_) => "reading reconstructions…",
        };
        note(f, inner, msg, t);
        return;
    };
    let idx = step_back(&steps, state.gui.recon.back).map_or(0, |(i, _)| i);
    // Step slider.
    let width = (head.width as usize).saturating_sub(50).clamp(5, 40);
    let pos = if steps.len() > 1 {
        idx * (width - 1) / (steps.len() - 1)
    } else {
        0
    };
    let slider: String = (0..width)
        .map(|i| if i == pos { '●' } else { '─' })
        .collect();
    let muted = Style::default().fg(t.muted);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!(" step {} ", meta.step),
                Style::default().fg(t.title).add_modifier(Modifier::BOLD),
            ),
            Span::styled("◀ ", muted),
            Span::styled(slider, Style::default().fg(t.accent)),
            Span::styled(" ▶", muted),
            Span::styled(
                format!(
                    "  {}/{}  mask {:.0}%  {} frames",
                    idx + 1,
                    steps.len(),
                    meta.mask_ratio * 100.0,
                    meta.frames
                ),
                muted,
            ),
        ])),
        head,
    );
    // Samples with their error.
    let sample = state
        .gui
        .recon
        .sample
        .min(meta.samples.len().saturating_sub(1));
    if list.width > 0 {
        let items: Vec<ListItem> = meta
            .samples
            .iter()
            .map(|s| ListItem::new(format!("s{:02}  mse {:.4}", s.index, s.mse)))
            .collect();
        let mut ls = ListState::default().with_selected(Some(sample));
        f.render_stateful_widget(
            List::new(items)
                .block(block(" samples ", t))
                .highlight_style(Style::default().bg(t.selected_bg).fg(t.selected_fg)),
            list,
            &mut ls,
        );
    }
    let source = meta
        .samples
        .get(sample)
        .map(|s| s.source.clone())
        .unwrap_or_default();
    let b = block(format!(" {source} "), t);
    let inner = b.inner(frames);
    f.render_widget(b, frames);
    // Row labels.
    let rows = ["original", "masked", "recon"];
    let label_w = image.x.saturating_sub(inner.x);
    let drawn_h = match &state.images.recon {
        Some(r) => r
            .protocol
            .as_ref()
            .map_or(image.height, |p| p.area().height.min(image.height)),
        None => image.height,
    };
    if label_w > 0 {
        for (i, r) in rows.iter().enumerate() {
            let y = image.y + (drawn_h * (2 * i as u16 + 1)) / 6;
            if y < inner.y + inner.height {
                f.render_widget(
                    Paragraph::new(Span::styled(*r, muted)),
                    Rect::new(inner.x, y, label_w, 1),
                );
            }
        }
    }
    match &state.images.recon {
        Some(r)
            if r.key.step == meta.step
                && r.key.run == run.map(|r| r.summary.id.clone()).unwrap_or_default() =>
        {
            match (&r.protocol, &r.error) {
                (Some(p), _) => f.render_widget(Picture::new(p, state.images.blanking), image),
                (None, Some(e)) => note(f, image, e, t),
                _ => note(f, image, "encoding…", t),
            }
        }
        _ => note(f, image, "encoding…", t),
    }
}
