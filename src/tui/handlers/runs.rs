//! Keys of the Runs view: launch, stop, resume, duplicate, delete, demos.

use std::path::PathBuf;

use crate::session::launcher::{self, Launcher};
use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::request::Request;
use crate::tui::run_data::ShownState;
use crate::tui::state::{Dialog, Level};
use crate::tui::view::View;

impl Ctx<'_> {
    pub fn runs_action(&mut self, action: Action) {
        if self.common_move(&action) {
            return;
        }
        match action {
            Action::Select => self.set_view(View::Monitor),
            Action::Launch => self.open_launch(),
            Action::Stop => {
                let Some((_, dir)) = self.selected_dir() else {
                    return self.info("no run selected", Level::Warn);
                };
                match launcher::stop(&dir) {
                    Ok(pid) => self.info(
                        format!("sent SIGTERM to {} (pid {pid})", dir.id()),
                        Level::Info,
                    ),
                    Err(e) => self.info(e, Level::Error),
                }
            }
            Action::Resume => {
                let Some((id, dir)) = self.selected_dir() else {
                    return self.info("no run selected", Level::Warn);
                };
                let state = self
                    .state
                    .selected_run()
                    .map(|r| r.shown_state(self.state.now));
                if matches!(state, Some(ShownState::Running | ShownState::Queued)) {
                    return self.info(format!("{id} is still running"), Level::Warn);
                }
                self.command(format!("resume {id}"), Launcher::resume_args(&dir));
            }
            Action::Duplicate => {
                let Some((id, dir)) = self.selected_dir() else {
                    return self.info("no run selected", Level::Warn);
                };
                let text = match std::fs::read_to_string(dir.run_toml()) {
                    Ok(t) => t,
                    Err(e) => return self.info(format!("{id}/run.toml: {e}"), Level::Error),
                };
                let out = self
                    .state
                    .session
                    .launch_configs()
                    .join(format!("{}-copy.toml", id));
                if let Err(e) = std::fs::create_dir_all(self.state.session.launch_configs())
                    .and_then(|_| std::fs::write(&out, text))
                {
                    return self.info(format!("{}: {e}", out.display()), Level::Error);
                }
                let args = Launcher::launch_args(&out, &self.state.session.root);
                self.command(format!("duplicate {id}"), args);
            }
            Action::Delete => {
                let Some((id, _)) = self.selected_dir() else {
                    return self.info("no run selected", Level::Warn);
                };
                self.state.gui.dialog = Some(Dialog::ConfirmDelete { run_id: id });
            }
            Action::Mark => {
                if let Some((id, _)) = self.selected_dir() {
                    self.toggle_mark(id);
                }
            }
            Action::UnmarkAll => self.state.gui.marked.clear(),
            Action::DemoPretrain | Action::DemoFinetune => {
                self.demo(action == Action::DemoPretrain)
            }
            _ => {}
        }
    }

    pub fn demo(&mut self, pretrain: bool) {
        let name = if pretrain {
            "demo-pretrain"
        } else {
            "demo-finetune"
        };
        let config = match self.demo_config(name) {
            Ok(path) => path,
            Err(e) => return self.info(e, Level::Error),
        };
        let make_data = !self.state.session.data().exists();
        let what = if pretrain {
            "demo pre-training"
        } else {
            "demo fine-tuning"
        };
        self.state.gui.busy.push(what.into());
        self.info(
            format!(
                "{what}: {}starting…",
                if make_data {
                    "making demo data, then "
                } else {
                    ""
                }
            ),
            Level::Info,
        );
        self.requests.push(Request::Demo { config, make_data });
    }

    /// The demo config's file: the one the launch dialog lists under `name` (a user's own
    /// shadows the built-in), the built-in one written to `<session>/configs/` first.
    fn demo_config(&self, name: &str) -> Result<PathBuf, String> {
        let ex = self
            .state
            .data
            .examples
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| format!("no `{name}` config"))?;
        if let Some(problem) = &ex.problem {
            return Err(problem.clone());
        }
        if let Some(path) = &ex.path {
            return Ok(path.clone());
        }
        let dir = self.state.session.configs();
        let path = dir.join(format!("{name}.toml"));
        // Written once: a file there since the workbench started is the session's own.
        if !path.exists() {
            std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(&path, &ex.text))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(path)
    }
}
