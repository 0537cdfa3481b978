//! What a view's key handler may touch: the state, the queue of background requests and
//! the app's options; with the moves every view shares (selection, view switch, messages).

use super::action::Action;
use super::options::Options;
use super::request::Request;
use super::state::{Level, State};
use super::view::View;
use super::view_state::{AttnSel, ReconSel};
use super::views;

pub struct Ctx<'a> {
    pub state: &'a mut State,
    pub requests: &'a mut Vec<Request>,
    pub options: &'a Options,
}

impl Ctx<'_> {
    pub fn set_view(&mut self, v: View) {
        self.state.gui.view = v;
        if v == View::Compare {
            // Start on the selected run's row.
            let sel = self.state.selected_run().map(|r| r.summary.id.clone());
            if let Some(pos) = views::compare::sorted_rows(self.state)
                .iter()
                .position(|r| Some(&r.run) == sel.as_ref())
            {
                self.state.gui.compare.cursor = pos;
            }
        }
    }

    /// Moves the run selection by `delta` rows within the filtered list.
    pub fn move_selection(&mut self, delta: isize) {
        let vis = self.state.visible_runs();
        if vis.is_empty() {
            return;
        }
        let row = self.state.selected_visible_row(&vis).unwrap_or(0) as isize;
        let new = (row + delta).clamp(0, vis.len() as isize - 1) as usize;
        self.state.gui.selected_row = new;
        self.state.gui.selected = Some(self.state.data.runs[vis[new]].summary.id.clone());
        self.state.gui.recon = ReconSel::default();
        self.state.gui.attn = AttnSel::default();
    }

    pub fn common_move(&mut self, action: &Action) -> bool {
        match action {
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-10),
            Action::PageDown => self.move_selection(10),
            Action::Top => self.move_selection(isize::MIN / 2),
            Action::Bottom => self.move_selection(isize::MAX / 2),
            _ => return false,
        }
        true
    }

    pub fn selected_dir(&self) -> Option<(String, crate::session::RunDir)> {
        let r = self.state.selected_run()?;
        Some((
            r.summary.id.clone(),
            crate::session::RunDir::new(r.summary.root.clone()),
        ))
    }

    pub fn info(&mut self, text: impl Into<String>, level: Level) {
        self.state.gui.status = Some((text.into(), level));
    }

    pub fn command(&mut self, what: String, args: Vec<String>) {
        self.state.gui.busy.push(what.clone());
        self.info(format!("{what}…"), Level::Info);
        self.requests.push(Request::Command { what, args });
    }

    /// Marks or unmarks a run (the Monitor overlays marked runs, Compare diffs them).
    pub fn toggle_mark(&mut self, id: String) {
        self.toggle_marks(vec![id]);
    }

    /// Marks `ids`, or unmarks them when all are marked already (a cross-validation's folds
    /// go together).
    pub fn toggle_marks(&mut self, ids: Vec<String>) {
        let marked = &mut self.state.gui.marked;
        if ids.iter().all(|id| marked.contains(id)) {
            for id in &ids {
                marked.remove(id);
            }
        } else {
            marked.extend(ids);
        }
        let n = marked.len();
        self.info(
            format!(
                "{n} run{} marked: the Monitor overlays them, Compare diffs their configs",
                if n == 1 { "" } else { "s" }
            ),
            Level::Info,
        );
    }
}
