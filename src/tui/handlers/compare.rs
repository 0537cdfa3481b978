//! Keys of the Compare view: cursor (which selects the run), sort, marks, evaluation.

use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::views;

impl Ctx<'_> {
    pub fn compare_action(&mut self, action: Action) {
        let rows = views::compare::rows(self.state);
        let n = rows.len();
        let c = &mut self.state.gui.compare;
        match action {
            Action::Up => c.cursor = c.cursor.saturating_sub(1),
            Action::Down => c.cursor = (c.cursor + 1).min(n.saturating_sub(1)),
            Action::Top => c.cursor = 0,
            Action::Bottom => c.cursor = n.saturating_sub(1),
            Action::SortNext | Action::Right => {
                c.sort_col = (c.sort_col + 1) % views::compare::COLUMNS.len()
            }
            Action::Left => {
                c.sort_col =
                    (c.sort_col + views::compare::COLUMNS.len() - 1) % views::compare::COLUMNS.len()
            }
            Action::SortReverse => c.reverse = !c.reverse,
            Action::UnmarkAll => self.state.gui.marked.clear(),
            Action::NextEval => c.eval += 1,
            Action::Mark => {
                // A cross-validation's row marks (or unmarks) all its fold runs.
                if let Some(row) = views::compare::selected_row(self.state) {
                    let ids = views::compare::row_runs(self.state, &row);
                    self.toggle_marks(ids);
                }
            }
            _ => {}
        }
        // The row's run (a cross-validation's first fold) becomes the selected run (Monitor
        // etc. follow).
        if matches!(
            action,
            Action::Up | Action::Down | Action::Top | Action::Bottom
        ) && let Some(row) = views::compare::selected_row(self.state)
            && let Some(id) = views::compare::row_runs(self.state, &row)
                .into_iter()
                .next()
        {
            self.state.gui.selected = Some(id);
        }
    }
}
