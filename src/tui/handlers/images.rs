//! Keys of the Reconstructions and Attention views: step, sample, map, head, frame, token.

use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::views;

impl Ctx<'_> {
    pub fn recon_action(&mut self, action: Action) {
        let (steps, samples) = self.recon_counts();
        let r = &mut self.state.gui.recon;
        match action {
            // `back` counts steps back from the newest.
            Action::Left | Action::PrevStep => r.back = (r.back + 1).min(steps.saturating_sub(1)),
            Action::Right | Action::NextStep => r.back = r.back.saturating_sub(1),
            Action::Top => r.back = steps.saturating_sub(1),
            Action::Bottom => r.back = 0,
            Action::Up => r.sample = r.sample.saturating_sub(1),
            Action::Down => r.sample = (r.sample + 1).min(samples.saturating_sub(1)),
            _ => {}
        }
    }

    /// (number of recon steps, samples at the chosen step) of the selected run.
    pub fn recon_counts(&self) -> (usize, usize) {
        let Some(run) = self.state.selected_run() else {
            return (0, 0);
        };
        let steps = run.summary.recon_steps.len();
        let samples = views::recon::current_meta(self.state)
            .map(|(_, m)| m.samples.len())
            .unwrap_or(0);
        (steps, samples)
    }

    pub fn attn_action(&mut self, action: Action) {
        let steps = self
            .state
            .selected_run()
            .map(|r| r.summary.attn_steps.len())
            .unwrap_or(0);
        let maps = views::attention::current_meta(self.state)
            .map(|(_, m)| m.maps.len())
            .unwrap_or(0);
        let (frames, heads, tokens) = match &self.state.images.attn {
            Some(a) => (a.frames.max(1), a.heads.max(1), a.tokens.max(1)),
            None => (1, 1, 1),
        };
        let a = &mut self.state.gui.attn;
        match action {
            Action::PrevStep => a.back = (a.back + 1).min(steps.saturating_sub(1)),
            Action::NextStep => a.back = a.back.saturating_sub(1),
            Action::PrevMap => a.map = a.map.saturating_sub(1),
            Action::NextMap => a.map = (a.map + 1).min(maps.saturating_sub(1)),
            Action::PrevHead => a.head = (a.head + heads - 1) % heads,
            Action::NextHead => a.head = (a.head + 1) % heads,
            Action::Left => a.frame = a.frame.saturating_sub(1),
            Action::Right => a.frame = (a.frame + 1).min(frames - 1),
            Action::Up => a.token = (a.token + tokens - 1) % tokens,
            Action::Down => a.token = (a.token + 1) % tokens,
            _ => {}
        }
    }
}
