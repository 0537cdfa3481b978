//! Terminal graphics (sixel, kitty, iTerm2) live outside ratatui's cell buffer: an image
//! widget marks its cells "skip", so ratatui never writes them, and whatever the terminal
//! showed there before (a chart, log lines, a closed dialog) stays under and around the
//! picture — and shows wherever the picture does not cover its cells. So whenever the
//! picture, its place, the view or an overlay changes, the frame is drawn twice: first with
//! every image area blank (plain spaces, which the terminal writes over old text and old
//! graphics), then with the images. Half-blocks are ordinary cells and need none of this.

use ratatui::layout::Rect;

use super::imager::{AttnKey, ReconKey};
use super::state::State;
use super::view::View;
use super::view_state::{AttnSel, ReconSel};

/// What decides the graphics on screen; a change needs a blank pass first.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameKey {
    view: View,
    size: Rect,
    /// Help, a dialog or the metric picker over the view.
    overlay: bool,
    recon: Option<ReconKey>,
    attn: Option<AttnKey>,
    recon_sel: ReconSel,
    attn_sel: AttnSel,
    selected: Option<String>,
}

impl FrameKey {
    pub fn of(state: &State) -> Self {
        let g = &state.gui;
        Self {
            view: g.view,
            size: state.size,
            overlay: g.help || g.dialog.is_some() || g.monitor.picker.is_some(),
            recon: state.images.recon.as_ref().map(|r| r.key.clone()),
            attn: state.images.attn.as_ref().map(|a| a.key.clone()),
            recon_sel: g.recon.clone(),
            attn_sel: g.attn.clone(),
            selected: g.selected.clone(),
        }
    }
}

/// Remembers the key of the last frame drawn.
#[derive(Debug, Default)]
pub struct ImageRedraw {
    last: Option<FrameKey>,
}

impl ImageRedraw {
    /// True when the next frame must first be drawn with its image areas blank: graphics
    /// are in use and what they show changed since the last frame.
    pub fn needs_blank_pass(&mut self, state: &State) -> bool {
        if state.images.protocol == "halfblocks" {
            return false;
        }
        let key = FrameKey::of(state);
        let changed = self.last.as_ref() != Some(&key);
        self.last = Some(key);
        changed
    }
}
