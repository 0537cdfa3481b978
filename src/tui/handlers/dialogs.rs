//! Keys inside the dialogs: launch (pick a config, edit its fields, launch), confirm
//! delete, messages; and export.

use std::path::PathBuf;

use crate::session::launcher::Launcher;
use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::launch_config::{edited_table, flatten_fields, validate_field};
use crate::tui::request::Request;
use crate::tui::run_data::ShownState;
use crate::tui::state::{Dialog, ExampleConfig, Field, LaunchDialog, Level};

impl Ctx<'_> {
    pub fn open_launch(&mut self) {
        self.state.gui.dialog = Some(Dialog::Launch(LaunchDialog {
            picked: None,
            cursor: 0,
            fields: vec![],
            field_cursor: 0,
            editing: false,
            error: None,
        }));
    }

    pub fn dialog_action(&mut self, action: Action) {
        let Some(dialog) = self.state.gui.dialog.take() else {
            return;
        };
        self.state.gui.dialog = match dialog {
            Dialog::Message { .. } => match action {
                Action::Back | Action::Select => None,
                _ => Some(dialog),
            },
            Dialog::ConfirmDelete { run_id } => match action {
                Action::Select | Action::Char('y') => {
                    self.delete_run(&run_id);
                    None
                }
                Action::Back | Action::Char('n') => None,
                _ => Some(Dialog::ConfirmDelete { run_id }),
            },
            Dialog::Launch(d) => self.launch_dialog(d, action).map(Dialog::Launch),
            Dialog::OpenVideo(d) => self.open_video_action(d, action).map(Dialog::OpenVideo),
        };
    }

    pub fn delete_run(&mut self, id: &str) {
        let Some(run) = self.state.data.run(id) else {
            return self.info(format!("{id} is gone already"), Level::Warn);
        };
        let state = run.shown_state(self.state.now);
        if matches!(state, ShownState::Running | ShownState::Queued) {
            return self.info(
                format!("{id} is {}: stop it first", state.label()),
                Level::Error,
            );
        }
        let root = run.summary.root.clone();
        match std::fs::remove_dir_all(&root) {
            Ok(()) => {
                self.state.data.runs.retain(|r| r.summary.id != id);
                self.info(format!("deleted {id}"), Level::Info);
            }
            Err(e) => self.info(format!("delete {}: {e}", root.display()), Level::Error),
        }
        self.requests.push(Request::Rescan);
    }

    pub fn launch_dialog(&mut self, mut d: LaunchDialog, action: Action) -> Option<LaunchDialog> {
        let examples = &self.state.data.examples;
        match d.picked {
            None => match action {
                Action::Up => d.cursor = d.cursor.saturating_sub(1),
                Action::Down => d.cursor = (d.cursor + 1).min(examples.len().saturating_sub(1)),
                Action::Back => return None,
                Action::Select => {
                    let ex = examples.get(d.cursor)?;
                    match &ex.value {
                        Some(v) => {
                            d.fields = flatten_fields(v);
                            d.picked = Some(d.cursor);
                            d.field_cursor = 0;
                        }
                        None => d.error = ex.problem.clone(),
                    }
                }
                _ => {}
            },
            Some(_) if d.editing => {
                let f = d.fields.get_mut(d.field_cursor)?;
                match action {
                    Action::Char(c) => f.value.push(c),
                    Action::Backspace => {
                        f.value.pop();
                    }
                    Action::Select | Action::Back => {
                        d.editing = false;
                        f.error = validate_field(f).err();
                    }
                    _ => {}
                }
            }
            Some(picked) => match action {
                Action::Up => d.field_cursor = d.field_cursor.saturating_sub(1),
                Action::Down => d.field_cursor = (d.field_cursor + 1).min(d.fields.len()),
                Action::Back => {
                    d.picked = None;
                    d.error = None;
                }
                Action::Select if d.field_cursor < d.fields.len() => d.editing = true,
                Action::Select => {
                    // The last row: launch.
                    let mut ok = true;
                    for f in &mut d.fields {
                        f.error = validate_field(f).err();
                        ok &= f.error.is_none();
                    }
                    if !ok {
                        d.error = Some("fix the fields marked in red".into());
                        return Some(d);
                    }
                    let ex = self.state.data.examples.get(picked)?.clone();
                    match self.write_launch_config(&ex, &d.fields) {
                        Ok(path) => {
                            let args = Launcher::launch_args(&path, &self.state.session.root);
                            self.command(format!("launch {}", ex.name), args);
                            return None;
                        }
                        Err(e) => d.error = Some(e),
                    }
                }
                _ => {}
            },
        }
        Some(d)
    }

    pub fn write_launch_config(
        &self,
        ex: &ExampleConfig,
        fields: &[Field],
    ) -> Result<PathBuf, String> {
        let table = edited_table(ex, fields)?;
        let name = table
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or(&ex.name)
            .to_string();
        let dir = self.state.session.launch_configs();
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let stamp = crate::session::now_rfc3339().replace([':', '-'], "");
        let path = dir.join(format!(
            "{}-{}.toml",
            crate::session::layout::short_name(&name),
            &stamp[..15.min(stamp.len())]
        ));
        let text = toml::to_string_pretty(&table).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    pub fn export(&mut self) {
        match crate::tui::export::job_for(self.state) {
            Ok(job) => {
                self.state.gui.busy.push("export".into());
                self.requests.push(Request::Export(job));
            }
            Err(e) => self.info(e, Level::Warn),
        }
    }
}
