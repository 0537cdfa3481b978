//! Inspect: one video scored by a fine-tuned run (`infer --inspect`, started with `o`): the
//! window's frame with the face box and landmarks, the attention of the window's face clip
//! over the face, the class probabilities of the window and of the video, and the timeline
//! of every class over the video with the current window marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::attention::panel;
use super::inspect_timeline::timeline;
use super::monitor_curves::run_palette;
use crate::session::inspection::Inspection;
use crate::tui::draw_helpers::{block, note, note_panel, split};
use crate::tui::inspect_data::InspectionData;
use crate::tui::map_overlay::GROUP_RGB;
use crate::tui::run_data::RunData;
use crate::tui::state::State;
use crate::tui::theme::Theme;
use crate::tui::view_state::AttnOwner;
use crate::tui::widgets::picture::Picture;

/// The inspection shown: the one picked by name, else the newest.
pub fn current(state: &State) -> Option<&InspectionData> {
    let all = &state.data.inspections;
    state
        .gui
        .inspect
        .name
        .as_ref()
        .and_then(|n| all.iter().find(|i| i.name == *n))
        .or_else(|| all.last())
}

/// The window shown (0-based): the one picked, else where the predicted class peaks.
pub fn current_window(state: &State, insp: &Inspection) -> usize {
    let last = insp.windows.len().saturating_sub(1);
    state
        .gui
        .inspect
        .window
        .or_else(|| insp.peak_window())
        .unwrap_or(0)
        .min(last)
}

/// The run whose model scores a newly opened video: the selected run when it is a
/// fine-tuning run with a checkpoint, else the newest such run.
pub fn model_run(state: &State) -> Option<&RunData> {
    let usable =
        |r: &&RunData| r.summary.kind == "finetune" && r.summary.latest_checkpoint.is_some();
    state
        .selected_run()
        .filter(usable)
        .or_else(|| state.data.runs.iter().rev().find(usable))
}

/// Columns the class names get in the probability panel.
fn name_width(insp: &Inspection) -> usize {
    insp.labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 12)
}

/// Width of the probability panel: its numbers always fit (borders, `■ `, the name, two
/// percentages), bars use what a wide terminal leaves.
fn probs_width(insp: &Inspection, width: u16) -> u16 {
    let needed = (name_width(insp) + 2 + 7 + 8 + 2) as u16;
    needed.max(width * 28 / 100).min(width)
}

/// (head, frame, attention, probabilities, timeline)
fn areas(body: Rect, insp: &Inspection) -> [Rect; 5] {
    let [head, main, time] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Percentage(60),
        Constraint::Min(0),
    ])
    .areas(body);
    let [pictures, probs] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(probs_width(insp, main.width)),
    ])
    .areas(main);
    let [frame, attn] =
        Layout::horizontal([Constraint::Percentage(53), Constraint::Percentage(47)])
            .areas(pictures);
    [head, frame, attn, probs, time]
}

/// Where the frame and the attention over the face are drawn (inside their borders; the
/// attention panel keeps its last row for the colour scale) in a terminal of `size`.
pub fn picture_areas(size: Rect, insp: &Inspection) -> (Rect, Rect) {
    let [_, body, _, _] = split(size);
    let [_, frame, attn, _, _] = areas(body, insp);
    let attn = Block::bordered().inner(attn);
    (
        Block::bordered().inner(frame),
        Rect {
            height: attn.height.saturating_sub(1),
            ..attn
        },
    )
}

/// A colour per class: the theme's series colours, then fixed distinct ones.
pub fn class_colours(t: &Theme, n: usize) -> Vec<Color> {
    let mut out = run_palette(t);
    for [r, g, b] in GROUP_RGB {
        let c = Color::Rgb(r, g, b);
        if !out.contains(&c) {
            out.push(c);
        }
    }
    (0..n).map(|i| out[i % out.len()]).collect()
}

pub fn draw(state: &State, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    let Some(data) = current(state) else {
        let msg = match model_run(state) {
            Some(r) => format!(
                "no video inspected yet: press o to open a video or a folder of frames; \
                 {} scores it",
                r.summary.id
            ),
            None => "no fine-tuned run with a checkpoint in this session: fine-tune one \
                     (Runs: n, or f for the demo), then press o here to open a video"
                .into(),
        };
        return note_panel(f, area, " Inspect ", &msg, t);
    };
    let insp = match &data.record {
        None => {
            let msg = if state.gui.busy.contains(&scoring_task(&data.name)) {
                "scoring: finding the face and scoring every window (svfap-tui infer --inspect)…"
            } else {
                "not scored: the worker ended before writing its result (its error was shown); \
                 press o to open the video again"
            };
            return note_panel(f, area, &format!(" {} ", data.name), msg, t);
        }
        Some(Err(e)) => {
            return note_panel(f, area, &format!(" {} ", data.name), e, t);
        }
        Some(Ok(i)) => i,
    };
    let [head, frame, attn, probs, time] = areas(area, insp);
    let w = current_window(state, insp);
    let colours = class_colours(t, insp.probs.len());
    draw_head(state, data, insp, w, f, head);
    draw_frame(state, data, insp, w, f, frame);
    draw_attention(state, data, w, f, attn);
    draw_probs(state, insp, w, &colours, f, probs);
    timeline(f, time, insp, w, &colours, t);
}

fn pct(insp: &Inspection, p: f32) -> String {
    if insp.regression {
        format!("{p:.3}")
    } else {
        format!("{:.1}%", p * 100.0)
    }
}

fn draw_head(
    state: &State,
    data: &InspectionData,
    insp: &Inspection,
    w: usize,
    f: &mut Frame,
    area: Rect,
) {
    let t = &state.theme;
    let muted = Style::default().fg(t.muted);
    let bold = Style::default().fg(t.title).add_modifier(Modifier::BOLD);
    let video = insp
        .video
        .file_name()
        .map_or(data.name.clone(), |n| n.to_string_lossy().into_owned());
    let index = state
        .data
        .inspections
        .iter()
        .position(|i| i.name == data.name)
        .unwrap_or(0);
    let model = insp.run.clone().unwrap_or_else(|| {
        insp.checkpoint
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let faces = match insp.faces {
        Some(c) if insp.frames > 0 => {
            let with = c.detected + c.interpolated;
            format!(
                "face on {:.0}% of frames ({} missing)",
                100.0 * with as f64 / insp.frames as f64,
                c.missing
            )
        }
        _ => "frames used as they are (no face step)".into(),
    };
    let line1 = Line::from(vec![
        Span::styled(format!(" {video} "), bold),
        Span::styled(
            format!(
                "({}/{}) {} frames · {:.0} fps · model ",
                index + 1,
                state.data.inspections.len(),
                insp.frames,
                insp.fps
            ),
            muted,
        ),
        Span::raw(model),
    ]);
    let mut line2 = vec![Span::styled(" video: ", muted)];
    if let Some(top) = Inspection::top(&insp.probs) {
        line2.push(Span::styled(insp.label(top), bold));
        line2.push(Span::raw(format!(" {}", pct(insp, insp.probs[top]))));
    }
    if let Some(win) = insp.windows.get(w) {
        line2.push(Span::styled(
            format!(
                "   window {}/{} · {:.2}–{:.2} s: ",
                w + 1,
                insp.windows.len(),
                win.start_s,
                win.end_s
            ),
            muted,
        ));
        if let Some(top) = Inspection::top(&win.probs) {
            line2.push(Span::styled(insp.label(top), bold));
            line2.push(Span::raw(format!(" {}", pct(insp, win.probs[top]))));
        }
    }
    line2.push(Span::styled(format!("   {faces}"), muted));
    f.render_widget(Paragraph::new(vec![line1, Line::from(line2)]), area);
}

fn draw_frame(
    state: &State,
    data: &InspectionData,
    insp: &Inspection,
    w: usize,
    f: &mut Frame,
    area: Rect,
) {
    let t = &state.theme;
    let shown = insp.windows.get(w).map_or(0, |x| x.shown_frame);
    let has_face = insp.windows.get(w).is_some_and(|x| x.face.is_some());
    let title = if has_face || insp.faces.is_none() {
        format!(" frame {} ", shown + 1)
    } else {
        format!(" frame {} · no face found ", shown + 1)
    };
    let b = block(title, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let ready = state
        .images
        .inspect_frame
        .as_ref()
        .filter(|r| r.key.inspection == data.name && r.key.window == w);
    match ready {
        Some(r) if let Some(p) = &r.protocol => {
            f.render_widget(Picture::new(p, state.images.blanking), inner)
        }
        Some(r) => note(f, inner, r.error.as_deref().unwrap_or("no picture"), t),
        None => note(f, inner, "loading…", t),
    }
}

fn draw_attention(state: &State, data: &InspectionData, w: usize, f: &mut Frame, area: Rect) {
    let t = &state.theme;
    if !data.attention.contains(&w) {
        let busy = state
            .gui
            .busy
            .iter()
            .any(|b| *b == attention_task(&data.name, w));
        let msg = if busy {
            "computing the attention maps of this window…"
        } else {
            "no attention maps for this window yet: press a to compute them"
        };
        return note_panel(f, area, " attention ", msg, t);
    }
    let ready = state.images.inspect_attn.as_ref().filter(|a| {
        a.key.owner == AttnOwner::Inspection(data.name.clone()) && a.key.step == w as u64
    });
    match ready {
        None => {
            note_panel(f, area, " attention ", "loading…", t);
        }
        Some(a) if a.error.is_some() => {
            note_panel(
                f,
                area,
                " attention ",
                a.error.as_deref().unwrap_or_default(),
                t,
            );
        }
        Some(a) => panel(
            state,
            f,
            area,
            a.heat.as_ref(),
            a.overlays[0].as_ref(),
            "no heat map",
        ),
    }
}

/// The name the workbench's task scoring a video goes by (busy list, status line).
pub fn scoring_task(name: &str) -> String {
    format!("scoring {name}")
}

/// The name the workbench's task computing a window's attention goes by (busy list).
pub fn attention_task(name: &str, window: usize) -> String {
    format!("attention of window {} of {name}", window + 1)
}

fn draw_probs(
    state: &State,
    insp: &Inspection,
    w: usize,
    colours: &[Color],
    f: &mut Frame,
    area: Rect,
) {
    let t = &state.theme;
    let title = if insp.regression {
        " outputs: window · video "
    } else {
        " window · video "
    };
    let b = block(title, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some(win) = insp.windows.get(w) else {
        return;
    };
    let top = Inspection::top(&win.probs);
    let name_w = name_width(insp);
    // Bars only where there is room beside the numbers.
    let bar_w = (inner.width as usize).saturating_sub(name_w + 2 + 7 + 7 + 1);
    let lines: Vec<Line> = win
        .probs
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let colour = colours[i % colours.len().max(1)];
            let mut style = Style::default().fg(t.fg);
            if Some(i) == top {
                style = style.add_modifier(Modifier::BOLD);
            }
            let name: String = insp.label(i).chars().take(name_w).collect();
            let fill = if insp.regression {
                0
            } else {
                ((p.clamp(0.0, 1.0) * bar_w as f32).round() as usize).min(bar_w)
            };
            let video = insp.probs.get(i).copied().unwrap_or(f32::NAN);
            Line::from(vec![
                Span::styled("■ ", Style::default().fg(colour)),
                Span::styled(format!("{name:<name_w$}"), style),
                Span::styled(format!(" {:>6}", pct(insp, p)), style),
                Span::styled(
                    format!(" {:>6} ", pct(insp, video)),
                    Style::default().fg(t.muted),
                ),
                Span::styled("█".repeat(fill), Style::default().fg(colour)),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}
