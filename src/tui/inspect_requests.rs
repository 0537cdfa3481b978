//! What the Inspect view asks of the imager: the current window's frame with the face drawn
//! on it, and the window's attention map over its face clip (a run's attention job, pointed
//! at the inspection's `attn/window-N/`).

use super::app::App;
use super::imager::{AttnJob, AttnKey, Job};
use super::inspect_frame::{FrameJob, FrameKey};
use super::request::Request;
use super::view_state::{AttnOwner, AttnSel};
use super::views::inspect::{current, current_window, picture_areas};
use crate::session::artifacts::AttnMeta;

impl App {
    pub(super) fn request_inspect_images(&mut self) {
        let Some(data) = current(&self.state) else {
            return;
        };
        let Some(insp) = data.inspection() else {
            return;
        };
        let w = current_window(&self.state, insp);
        let (frame_area, attn_area) = picture_areas(self.state.size, insp);
        let key = FrameKey {
            inspection: data.name.clone(),
            window: w,
            area: frame_area,
        };
        let have = self.state.images.inspect_frame.as_ref().map(|r| &r.key) == Some(&key);
        if !have && self.pending_frame.as_ref() != Some(&key) && frame_area.area() > 0 {
            self.pending_frame = Some(key.clone());
            self.requests.push(Request::Image(Job::Frame(FrameJob {
                key,
                jpg: data.dir.frame(w),
                face: insp.windows.get(w).and_then(|x| x.face),
                frame_size: insp.frame_size,
            })));
        }
        if !data.attention.contains(&w) || attn_area.area() == 0 {
            return;
        }
        let dir = data.dir.attn(w);
        let Ok(meta) = AttnMeta::read(&dir) else {
            return;
        };
        let sel = &self.state.gui.inspect;
        // Opens on the attention rollout (what the whole stage-1 stack attends to).
        let rollout = meta.maps.iter().position(|m| m.kind == "rollout");
        let map = sel.map.or(rollout).unwrap_or(0) % meta.maps.len().max(1);
        // The map's middle time slice: the one the shown (middle) frame falls in.
        let slices = meta
            .maps
            .get(map)
            .and_then(|m| m.grid.first().copied())
            .unwrap_or(1);
        let key = AttnKey {
            owner: AttnOwner::Inspection(data.name.clone()),
            step: w as u64,
            sel: AttnSel {
                back: 0,
                map,
                head: sel.head,
                frame: slices / 2,
                token: 0,
            },
            areas: [attn_area, Default::default(), Default::default()],
        };
        let have = self.state.images.inspect_attn.as_ref().map(|a| &a.key) == Some(&key);
        if !have && self.pending_inspect_attn.as_ref() != Some(&key) {
            self.pending_inspect_attn = Some(key.clone());
            let frame_pngs = meta.frames.iter().map(|f| dir.join(f)).collect();
            self.requests.push(Request::Image(Job::Attn(AttnJob {
                key,
                dir,
                meta,
                frame_pngs,
            })));
        }
    }
}
