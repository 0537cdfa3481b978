//! The app: turns actions into state changes and requests for background work, and
//! background results into state. Each view's keys are handled in `handlers/`; the
//! headless driver (`headless.rs`) runs the same logic without a terminal or threads.

use std::path::PathBuf;

use ratatui::layout::Rect;

use super::action::Action;
use super::ctx::Ctx;
use super::imager::{AttnJob, AttnKey, Done, Job, ReconJob, ReconKey};
use super::keymap::{Key, KeyMap};
use super::launch_config::list_examples;
use super::loader::LogWant;
use super::options::Options;
use super::request::{Request, Update};
use super::run_data::RunData;
use super::series::RunMetrics;
use super::state::{AppData, Dialog, GuiState, Images, Level, State};
use super::theme::load_themes;
use super::view::View;
use super::view_state::AttnOwner;
use super::views;
use crate::session::artifacts::{ReconKind, ReconMeta};
use crate::session::log_window::LogPosition;
use crate::session::scan::RunSummary;
use crate::session::{SessionDir, SessionFile};

pub struct App {
    pub state: State,
    pub options: Options,
    /// Requests not yet handed out.
    pub requests: Vec<Request>,
    pending_recon: Option<ReconKey>,
    pending_attn: Option<AttnKey>,
    pub(super) pending_frame: Option<super::inspect_frame::FrameKey>,
    pub(super) pending_inspect_attn: Option<AttnKey>,
    /// The log window last asked of the loader.
    log_want: Option<LogWant>,
    restore_selection: Option<String>,
    session_file: SessionFile,
}

impl App {
    /// The part of the app a view's key handler works on.
    pub fn ctx(&mut self) -> Ctx<'_> {
        Ctx {
            state: &mut self.state,
            requests: &mut self.requests,
            options: &self.options,
        }
    }

    /// Opens (creating when missing) the session and loads keymap, themes and example configs.
    pub fn new(options: Options, size: Rect) -> anyhow::Result<App> {
        let session = SessionDir::new(&options.session);
        let session_file = SessionFile::open_or_create(&session.root)?;
        let (keymap, keymap_problem) = KeyMap::load(options.keymap_file.as_deref());
        let (themes, theme_problems) = load_themes(&options.theme_dirs);
        let wanted = options
            .theme
            .clone()
            .unwrap_or_else(|| session_file.ui.theme.clone());
        let theme = themes
            .iter()
            .find(|t| t.name == wanted)
            .cloned()
            .unwrap_or_default();
        let mut gui = GuiState {
            view: View::from_name(&session_file.ui.view).unwrap_or_default(),
            filter: session_file.ui.filter.clone(),
            marked: session_file.ui.marked.iter().cloned().collect(),
            ..Default::default()
        };
        gui.monitor.metric = session_file.ui.metric.clone();
        let problems: Vec<String> = keymap_problem.into_iter().chain(theme_problems).collect();
        if !problems.is_empty() {
            gui.status = Some((problems.join("; "), Level::Warn));
        }
        let restore_selection =
            Some(session_file.ui.selected_run.clone()).filter(|s| !s.is_empty());
        gui.selected = restore_selection.clone();
        let data = AppData {
            examples: list_examples(
                &options
                    .config_dirs
                    .iter()
                    .cloned()
                    .chain([session.configs()])
                    .collect::<Vec<_>>(),
            ),
            ..Default::default()
        };
        let state = State {
            session_name: session_file.name.clone(),
            session,
            data,
            gui,
            theme,
            themes,
            keymap,
            images: Images {
                protocol: "halfblocks".into(),
                ..Default::default()
            },
            now: crate::session::now_unix(),
            size,
        };
        Ok(App {
            state,
            options,
            requests: vec![Request::Rescan],
            pending_recon: None,
            pending_attn: None,
            pending_frame: None,
            pending_inspect_attn: None,
            log_want: None,
            restore_selection,
            session_file,
        })
    }

    /// The action a key means right now: text fields take characters.
    pub fn key_action(&self, key: &ratatui::crossterm::event::KeyEvent) -> Action {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        if self.state.typing() && !key.modifiers.contains(KeyModifiers::CONTROL) {
            match key.code {
                KeyCode::Char(c) => return Action::Char(c),
                KeyCode::Backspace => return Action::Backspace,
                KeyCode::Enter => return Action::Select,
                KeyCode::Esc => return Action::Back,
                _ => {}
            }
        }
        // Tab completes the path in the open-a-video dialog.
        if matches!(&self.state.gui.dialog, Some(Dialog::OpenVideo(_))) && key.code == KeyCode::Tab
        {
            return Action::Complete;
        }
        // The delete dialog answers y/n whatever the view binds them to (`y` duplicates).
        if matches!(&self.state.gui.dialog, Some(Dialog::ConfirmDelete { .. }))
            && let KeyCode::Char(c @ ('y' | 'n')) = key.code
        {
            return Action::Char(c);
        }
        match Key::from_event(key) {
            Some(k) => self.state.keymap.action(self.state.gui.view, &k),
            None => Action::None,
        }
    }

    pub fn quit_requested(&self) -> bool {
        self.state.gui.quit
    }

    pub fn handle(&mut self, action: Action) {
        let typing = self.state.typing();
        let gui = &mut self.state.gui;
        match &action {
            Action::Resize(w, h) => {
                self.state.size = Rect::new(0, 0, *w, *h);
                return;
            }
            Action::Quit if !typing => {
                gui.quit = true;
                return;
            }
            Action::Help => {
                gui.help = !gui.help;
                gui.help_scroll = 0;
                return;
            }
            Action::None => return,
            _ => {}
        }
        if gui.help {
            let s = &mut gui.help_scroll;
            match action {
                Action::Back | Action::Select => gui.help = false,
                Action::Down | Action::LogDown => *s = s.saturating_add(1),
                Action::Up | Action::LogUp => *s = s.saturating_sub(1),
                Action::PageDown | Action::LogPageDown => *s = s.saturating_add(10),
                Action::PageUp | Action::LogPageUp => *s = s.saturating_sub(10),
                Action::Top | Action::LogTop => *s = 0,
                Action::Bottom | Action::LogFollow => *s = u16::MAX,
                _ => {}
            }
            return;
        }
        if gui.monitor.picker.is_some() {
            self.ctx().picker_action(action);
            return;
        }
        if gui.filtering {
            match action {
                Action::Char(c) => gui.filter.push(c),
                Action::Backspace => {
                    gui.filter.pop();
                }
                Action::Select => gui.filtering = false,
                Action::Back => {
                    gui.filtering = false;
                    gui.filter.clear();
                }
                _ => {}
            }
            gui.selected_row = 0;
            return;
        }
        if gui.dialog.is_some() {
            self.ctx().dialog_action(action);
            return;
        }
        if let Some(v) = action.view() {
            self.ctx().set_view(v);
            return;
        }
        match action {
            Action::NextView => {
                let v = View::ALL[(gui.view.index() + 1) % View::ALL.len()];
                self.ctx().set_view(v)
            }
            Action::PrevView => {
                let v = View::ALL[(gui.view.index() + View::ALL.len() - 1) % View::ALL.len()];
                self.ctx().set_view(v)
            }
            Action::Back => gui.status = None,
            Action::Filter => gui.filtering = true,
            Action::NextTheme => self.next_theme(),
            Action::Refresh => self.requests.push(Request::Rescan),
            Action::Export => self.ctx().export(),
            _ => match gui.view {
                View::Runs => self.ctx().runs_action(action),
                View::Monitor => self.ctx().monitor_action(action),
                View::Recon => self.ctx().recon_action(action),
                View::Attention => self.ctx().attn_action(action),
                View::Compare => self.ctx().compare_action(action),
                View::Inspect => self.ctx().inspect_action(action),
            },
        }
    }

    fn next_theme(&mut self) {
        let themes = &self.state.themes;
        let i = themes
            .iter()
            .position(|t| t.name == self.state.theme.name)
            .map_or(0, |i| (i + 1) % themes.len());
        self.state.theme = themes.get(i).cloned().unwrap_or_default();
        self.state.gui.status = Some((format!("theme: {}", self.state.theme.name), Level::Info));
    }

    // ----- background results -------------------------------------------------------------

    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Runs(summaries) => self.apply_runs(summaries),
            Update::Cvs(cvs) => self.state.data.cvs = cvs,
            Update::Inspections(all) => self.state.data.inspections = all,
            Update::Metrics(delta) => {
                if let Some(run) = self
                    .state
                    .data
                    .runs
                    .iter_mut()
                    .find(|r| r.summary.id == delta.run)
                {
                    if delta.reset {
                        run.metrics = RunMetrics::default();
                    }
                    run.metrics.apply(&delta.records);
                    run.metrics.bytes_read = delta.bytes_read;
                    run.metrics.file_len = delta.file_len;
                    run.metrics.bad_lines += delta.bad_lines;
                }
            }
            Update::Image(done) => match *done {
                Done::Recon(r) => {
                    if self.pending_recon.as_ref() == Some(&r.key) {
                        self.pending_recon = None;
                    }
                    self.state.images.recon = Some(r);
                }
                Done::Attn(a) if matches!(a.key.owner, AttnOwner::Inspection(_)) => {
                    if self.pending_inspect_attn.as_ref() == Some(&a.key) {
                        self.pending_inspect_attn = None;
                    }
                    self.state.images.inspect_attn = Some(*a);
                }
                Done::Attn(a) => {
                    if self.pending_attn.as_ref() == Some(&a.key) {
                        self.pending_attn = None;
                    }
                    self.state.images.attn = Some(*a);
                }
                Done::Frame(r) => {
                    if self.pending_frame.as_ref() == Some(&r.key) {
                        self.pending_frame = None;
                    }
                    self.state.images.inspect_frame = Some(r);
                }
            },
            Update::Gpu(g) => self.state.data.gpu = g,
            Update::Host(h) => self.state.data.host = Some(h),
            Update::Log(log) => self.state.data.log = Some(log),
            Update::Launched(out) => {
                self.state.gui.busy.retain(|b| *b != out.what);
                if out.ok {
                    let last = out.output.lines().last().unwrap_or("").to_string();
                    self.ctx()
                        .info(format!("{}: ok {last}", out.what), Level::Info);
                } else {
                    self.state.gui.status = Some((format!("{} failed", out.what), Level::Error));
                    self.state.gui.dialog = Some(Dialog::Message {
                        title: format!("{} failed", out.what),
                        text: out.output,
                        level: Level::Error,
                    });
                }
                self.requests.push(Request::Rescan);
            }
            Update::Exported(res) => {
                self.state.gui.busy.retain(|b| b != "export");
                match res {
                    Ok(files) => {
                        let names: Vec<String> = files
                            .iter()
                            .filter_map(|f| f.file_name())
                            .map(|n| n.to_string_lossy().into_owned())
                            .collect();
                        self.ctx().info(
                            format!("exported to exports/: {}", names.join(", ")),
                            Level::Info,
                        );
                    }
                    Err(e) => self.ctx().info(format!("export failed: {e}"), Level::Error),
                }
            }
        }
    }

    fn apply_runs(&mut self, summaries: Vec<RunSummary>) {
        let mut old: std::collections::HashMap<String, RunData> = self
            .state
            .data
            .runs
            .drain(..)
            .map(|r| (r.summary.id.clone(), r))
            .collect();
        // Canonical once per scan: config paths inside it are no difference between runs.
        let root = &self.state.session.root;
        let session_root = std::fs::canonicalize(root)
            .unwrap_or_else(|_| root.clone())
            .display()
            .to_string();
        self.state.data.runs = summaries
            .into_iter()
            .map(|s| {
                let previous = old.remove(&s.id);
                RunData::new(s, previous, Some(&session_root))
            })
            .collect();
        self.state.data.scanned = true;
        if let Some(id) = self.restore_selection.take() {
            self.state.gui.selected = Some(id);
        }
        // Keep the selection on its run; when it vanished, land on the run now in its row.
        let vis = self.state.visible_runs();
        if let Some(row) = self.state.selected_visible_row(&vis) {
            self.state.gui.selected_row = row;
            self.state.gui.selected = Some(self.state.data.runs[vis[row]].summary.id.clone());
        }
    }

    /// Asks the imager for what the current view shows, unless it is there or on its way.
    pub fn request_images(&mut self) {
        let size = self.state.size;
        match self.state.gui.view {
            View::Recon => {
                let Some((dir, meta)) = views::recon::current_meta(&self.state) else {
                    return;
                };
                let run = self
                    .state
                    .selected_run()
                    .map(|r| r.summary.id.clone())
                    .unwrap_or_default();
                let sample = self
                    .state
                    .gui
                    .recon
                    .sample
                    .min(meta.samples.len().saturating_sub(1));
                let sample_index = meta.samples.get(sample).map_or(0, |s| s.index);
                let key = ReconKey {
                    run,
                    step: meta.step,
                    sample: sample_index,
                    area: views::recon::image_area(size),
                };
                let have = self.state.images.recon.as_ref().map(|r| &r.key) == Some(&key);
                if !have && self.pending_recon.as_ref() != Some(&key) && key.area.area() > 0 {
                    self.pending_recon = Some(key.clone());
                    self.requests.push(Request::Image(Job::Recon(ReconJob {
                        key,
                        dir,
                        frames: meta.frames,
                    })));
                }
            }
            View::Attention => {
                let Some((dir, meta)) = views::attention::current_meta(&self.state) else {
                    return;
                };
                let Some(run) = self.state.selected_run() else {
                    return;
                };
                let mut sel = self.state.gui.attn.clone();
                sel.map = sel.map.min(meta.maps.len().saturating_sub(1));
                let key = AttnKey {
                    owner: AttnOwner::Run(run.summary.id.clone()),
                    step: meta.step,
                    sel,
                    areas: views::attention::overlay_areas(size),
                };
                let frame_pngs = if meta.frames.is_empty() {
                    nearest_recon_frames(run, meta.step)
                } else {
                    meta.frames.iter().map(|f| dir.join(f)).collect()
                };
                let have = self.state.images.attn.as_ref().map(|a| &a.key) == Some(&key);
                if !have && self.pending_attn.as_ref() != Some(&key) {
                    self.pending_attn = Some(key.clone());
                    self.requests.push(Request::Image(Job::Attn(AttnJob {
                        key,
                        dir,
                        meta,
                        frame_pngs,
                    })));
                }
            }
            View::Inspect => self.request_inspect_images(),
            _ => {}
        }
    }

    /// Asks the loader for the log lines the Monitor view shows, when they changed. Another
    /// run's log starts out following its end.
    pub fn request_log(&mut self) {
        if self.state.gui.view != View::Monitor {
            return;
        }
        let Some(run) = self.state.selected_run() else {
            return;
        };
        let run_id = run.summary.id.clone();
        let path = crate::session::RunDir::new(run.summary.root.clone()).log_txt();
        if self.log_want.as_ref().is_some_and(|w| w.run != run_id) {
            self.state.gui.log_position = LogPosition::Follow;
        }
        let want = LogWant {
            run: run_id,
            path,
            position: self.state.gui.log_position,
            rows: views::monitor::log_rows(self.state.size),
        };
        if self.log_want.as_ref() != Some(&want) {
            self.log_want = Some(want.clone());
            self.requests.push(Request::Log(want));
        }
    }

    /// Writes the UI state into `session.toml`.
    pub fn save_ui_state(&mut self) -> Result<(), crate::session::SessionError> {
        let path = self.state.session.session_toml();
        // Re-read so notes edited by hand meanwhile survive.
        if let Ok(f) = SessionFile::read(&path) {
            self.session_file = f;
        }
        let ui = &mut self.session_file.ui;
        ui.view = self.state.gui.view.name().into();
        ui.selected_run = self
            .state
            .selected_run()
            .map(|r| r.summary.id.clone())
            .unwrap_or_default();
        ui.filter = self.state.gui.filter.clone();
        ui.theme = self.state.theme.name.clone();
        ui.metric = self.state.gui.monitor.metric.clone();
        ui.marked = self.state.gui.marked.iter().cloned().collect();
        self.session_file.write(&path)
    }
}

/// The first sample's original frames at (or nearest to) `step`: what attention maps written
/// before frames were stored with them are drawn over.
fn nearest_recon_frames(run: &RunData, step: u64) -> Vec<PathBuf> {
    let Some(best) = run
        .summary
        .recon_steps
        .iter()
        .min_by_key(|s| s.abs_diff(step))
    else {
        return Vec::new();
    };
    let dir = run
        .summary
        .root
        .join("recon")
        .join(crate::session::layout::step_dir_name(*best));
    let Some(meta) = ReconMeta::read(&dir).ok() else {
        return Vec::new();
    };
    let Some(sample) = meta.samples.first().map(|s| s.index) else {
        return Vec::new();
    };
    (0..meta.frames)
        .map(|f| ReconMeta::frame_file(&dir, sample, ReconKind::Original, f))
        .filter(|p| p.exists())
        .collect()
}
