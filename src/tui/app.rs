//! The app: turns actions into state changes and requests for background work, and
//! background results into state. `App::headless` runs the same logic without a terminal
//! or threads, for tests (actions in, state out).

use std::path::{Path, PathBuf};

use ratatui::layout::Rect;

use super::action::Action;
use super::gpu::GpuSource;
use super::imager::{AttnJob, AttnKey, Done, Imager, Job, ReconJob, ReconKey};
use super::keymap::{Key, KeyMap};
use super::loader::{Loader, LogWant, MetricsDelta, RunLog};
use super::state::*;
use super::theme::{Theme, load_themes};
use super::views;
use crate::session::artifacts::{ReconKind, ReconMeta};
use crate::session::launcher::{self, Launcher, Outcome};
use crate::session::log_window::LogPosition;
use crate::session::scan::RunSummary;
use crate::session::{SessionDir, SessionFile};

/// Where the app finds its files and how it starts commands.
#[derive(Debug, Clone)]
pub struct Options {
    pub session: PathBuf,
    pub launcher: Launcher,
    /// User keymap file (added to the embedded default) when it exists.
    pub keymap_file: Option<PathBuf>,
    /// Folders with theme files (`*.toml`), in increasing priority.
    pub theme_dirs: Vec<PathBuf>,
    /// Folder with the example run configs (`assets/`).
    pub assets_dir: PathBuf,
    /// `auto`, `halfblocks`, `sixel`, `kitty` or `iterm2`.
    pub image_protocol: String,
    /// Theme to use regardless of the session's saved one.
    pub theme: Option<String>,
}

impl Options {
    pub fn new(session: impl Into<PathBuf>) -> Self {
        let config = config_dir();
        Self {
            session: session.into(),
            launcher: Launcher::default(),
            keymap_file: config.as_ref().map(|c| c.join("keymap.toml")),
            theme_dirs: [
                Some(PathBuf::from("themes")),
                config.map(|c| c.join("themes")),
            ]
            .into_iter()
            .flatten()
            .collect(),
            assets_dir: PathBuf::from("assets"),
            image_protocol: "auto".into(),
            theme: None,
        }
    }
}

/// `$XDG_CONFIG_HOME/svfap-tui` or `~/.config/svfap-tui`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("svfap-tui"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/svfap-tui"))
}

/// Results coming back from background work.
pub enum Update {
    Runs(Vec<RunSummary>),
    Metrics(MetricsDelta),
    Image(Box<Done>),
    Gpu(GpuReadings),
    Log(RunLog),
    Launched(Outcome),
    Exported(Result<Vec<PathBuf>, String>),
}

/// Work the app asks for; the event loop hands it to threads, the headless driver runs it inline.
pub enum Request {
    Rescan,
    Log(LogWant),
    Image(Job),
    Command { what: String, args: Vec<String> },
    Demo { config: PathBuf, make_data: bool },
    Export(super::export::ExportJob),
}

pub struct App {
    pub state: State,
    pub options: Options,
    /// Requests not yet handed out.
    pub requests: Vec<Request>,
    pending_recon: Option<ReconKey>,
    pending_attn: Option<AttnKey>,
    /// The log window last asked of the loader.
    log_want: Option<LogWant>,
    restore_selection: Option<String>,
    session_file: SessionFile,
}

impl App {
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
            ..Default::default()
        };
        let problems: Vec<String> = keymap_problem.into_iter().chain(theme_problems).collect();
        if !problems.is_empty() {
            gui.status = Some((problems.join("; "), Level::Warn));
        }
        let restore_selection =
            Some(session_file.ui.selected_run.clone()).filter(|s| !s.is_empty());
        gui.selected = restore_selection.clone();
        let data = AppData {
            examples: list_examples(&options.assets_dir),
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
            log_want: None,
            restore_selection,
            session_file,
        })
    }

    /// The action a key means right now: text fields take characters.
    pub fn key_action(&self, key: &ratatui::crossterm::event::KeyEvent) -> Action {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        let typing = self.state.gui.filtering
            || matches!(&self.state.gui.dialog, Some(Dialog::Launch(d)) if d.editing);
        if typing && !key.modifiers.contains(KeyModifiers::CONTROL) {
            match key.code {
                KeyCode::Char(c) => return Action::Char(c),
                KeyCode::Backspace => return Action::Backspace,
                KeyCode::Enter => return Action::Select,
                KeyCode::Esc => return Action::Back,
                _ => {}
            }
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

    // ----- actions -------------------------------------------------------------------------

    pub fn handle(&mut self, action: Action) {
        let gui = &mut self.state.gui;
        match &action {
            Action::Resize(w, h) => {
                self.state.size = Rect::new(0, 0, *w, *h);
                return;
            }
            Action::Quit
                if !gui.filtering
                    && !matches!(&gui.dialog, Some(Dialog::Launch(d)) if d.editing) =>
            {
                gui.quit = true;
                return;
            }
            Action::Help => {
                gui.help = !gui.help;
                return;
            }
            Action::None => return,
            _ => {}
        }
        if gui.help {
            if matches!(action, Action::Back | Action::Select) {
                gui.help = false;
            }
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
            self.dialog_action(action);
            return;
        }
        if let Some(v) = action.view() {
            self.set_view(v);
            return;
        }
        match action {
            Action::NextView => {
                let v = View::ALL[(gui.view.index() + 1) % View::ALL.len()];
                self.set_view(v)
            }
            Action::PrevView => {
                let v = View::ALL[(gui.view.index() + View::ALL.len() - 1) % View::ALL.len()];
                self.set_view(v)
            }
            Action::Back => gui.status = None,
            Action::Filter => gui.filtering = true,
            Action::NextTheme => self.next_theme(),
            Action::Refresh => self.requests.push(Request::Rescan),
            Action::Export => self.export(),
            _ => match gui.view {
                View::Runs => self.runs_action(action),
                View::Monitor => self.monitor_action(action),
                View::Recon => self.recon_action(action),
                View::Attention => self.attn_action(action),
                View::Compare => self.compare_action(action),
            },
        }
    }

    fn set_view(&mut self, v: View) {
        self.state.gui.view = v;
        if v == View::Compare {
            // Start on the selected run's row.
            let sel = self.state.selected_run().map(|r| r.summary.id.clone());
            if let Some(pos) = views::compare::sorted_rows(&self.state)
                .iter()
                .position(|r| Some(&r.run) == sel.as_ref())
            {
                self.state.gui.compare.cursor = pos;
            }
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

    fn common_move(&mut self, action: &Action) -> bool {
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

    fn selected_dir(&self) -> Option<(String, crate::session::RunDir)> {
        let r = self.state.selected_run()?;
        Some((
            r.summary.id.clone(),
            crate::session::RunDir::new(r.summary.root.clone()),
        ))
    }

    fn info(&mut self, text: impl Into<String>, level: Level) {
        self.state.gui.status = Some((text.into(), level));
    }

    fn runs_action(&mut self, action: Action) {
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
            Action::DemoPretrain | Action::DemoFinetune => {
                self.demo(action == Action::DemoPretrain)
            }
            _ => {}
        }
    }

    fn command(&mut self, what: String, args: Vec<String>) {
        self.state.gui.busy.push(what.clone());
        self.info(format!("{what}…"), Level::Info);
        self.requests.push(Request::Command { what, args });
    }

    fn demo(&mut self, pretrain: bool) {
        let file = if pretrain {
            "demo-pretrain.toml"
        } else {
            "demo-finetune.toml"
        };
        let config = self.options.assets_dir.join(file);
        if !config.exists() {
            return self.info(
                format!("{} not found: no demo config", config.display()),
                Level::Error,
            );
        }
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

    fn monitor_action(&mut self, action: Action) {
        let page = views::monitor::log_rows(self.state.size)
            .saturating_sub(1)
            .max(1) as isize;
        let delta = match action {
            Action::LogUp => Some(-1),
            Action::LogDown => Some(1),
            Action::LogPageUp => Some(-page),
            Action::LogPageDown => Some(page),
            _ => None,
        };
        if let Some(delta) = delta {
            return self.scroll_log(delta);
        }
        match action {
            Action::LogTop => self.state.gui.log_position = LogPosition::Top(0),
            Action::LogFollow => self.state.gui.log_position = LogPosition::Follow,
            _ => {}
        }
        if self.common_move(&action) {
            return;
        }
        let n = self
            .state
            .selected_run()
            .map(|r| r.metrics.names().len())
            .unwrap_or(0)
            .max(1);
        let m = &mut self.state.gui.monitor;
        match action {
            Action::NextMetric | Action::Right => m.metric = (m.metric + 1) % n,
            Action::PrevMetric | Action::Left => m.metric = (m.metric + n - 1) % n,
            Action::Smoothing => m.smoothing = (m.smoothing + 1) % SMOOTHING.len(),
            Action::LogScale => m.log_scale = !m.log_scale,
            Action::Window => m.recent = !m.recent,
            Action::Overlay => m.overlay = !m.overlay,
            _ => {}
        }
    }

    /// Moves the log pane's top line by `delta` lines; reaching the end follows it again.
    fn scroll_log(&mut self, delta: isize) {
        let rows = views::monitor::log_rows(self.state.size);
        let Some(log) = views::monitor::selected_log(&self.state) else {
            return;
        };
        let window = &log.window;
        let lines = window.lines();
        if lines.is_empty() || rows == 0 {
            return;
        }
        let bottom = lines.len().saturating_sub(rows);
        let current = match self.state.gui.log_position {
            LogPosition::Follow => bottom,
            LogPosition::Top(top) => window.index_of(top),
        };
        let new = (current as isize + delta).clamp(0, lines.len() as isize - 1) as usize;
        self.state.gui.log_position = if new >= bottom && window.reaches_end() {
            LogPosition::Follow
        } else {
            LogPosition::Top(lines[new].offset)
        };
    }

    fn recon_action(&mut self, action: Action) {
        let (steps, samples) = self.recon_counts();
        let r = &mut self.state.gui.recon;
        match action {
            Action::Left | Action::PrevStep => r.step = r.step.saturating_sub(1),
            Action::Right | Action::NextStep => r.step = (r.step + 1).min(steps.saturating_sub(1)),
            Action::Top => r.step = 0,
            Action::Bottom => r.step = steps.saturating_sub(1),
            Action::Up => r.sample = r.sample.saturating_sub(1),
            Action::Down => r.sample = (r.sample + 1).min(samples.saturating_sub(1)),
            _ => {}
        }
    }

    /// (number of recon steps, samples at the chosen step) of the selected run.
    fn recon_counts(&self) -> (usize, usize) {
        let Some(run) = self.state.selected_run() else {
            return (0, 0);
        };
        let steps = run.summary.recon_steps.len();
        let samples = views::recon::current_meta(&self.state)
            .map(|(_, m)| m.samples.len())
            .unwrap_or(0);
        (steps, samples)
    }

    fn attn_action(&mut self, action: Action) {
        let steps = self
            .state
            .selected_run()
            .map(|r| r.summary.attn_steps.len())
            .unwrap_or(0);
        let maps = views::attention::current_meta(&self.state)
            .map(|(_, m)| m.maps.len())
            .unwrap_or(0);
        let (frames, heads, tokens) = match &self.state.images.attn {
            Some(a) => (a.frames.max(1), a.heads.max(1), a.tokens.max(1)),
            None => (1, 1, 1),
        };
        let a = &mut self.state.gui.attn;
        match action {
            Action::PrevStep => a.step = a.step.saturating_sub(1),
            Action::NextStep => a.step = (a.step + 1).min(steps.saturating_sub(1)),
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

    fn compare_action(&mut self, action: Action) {
        let rows = views::compare::rows(&self.state);
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
            Action::NextEval => c.eval += 1,
            Action::Mark => {
                if let Some(row) =
                    views::compare::sorted_rows(&self.state).get(self.state.gui.compare.cursor)
                {
                    let id = row.run.clone();
                    let c = &mut self.state.gui.compare;
                    if !c.marked.remove(&id) {
                        c.marked.insert(id);
                    }
                }
            }
            _ => {}
        }
        // The row's run becomes the selected run (Monitor etc. follow).
        if matches!(
            action,
            Action::Up | Action::Down | Action::Top | Action::Bottom
        ) && let Some(row) =
            views::compare::sorted_rows(&self.state).get(self.state.gui.compare.cursor)
        {
            self.state.gui.selected = Some(row.run.clone());
        }
    }

    // ----- dialogs -------------------------------------------------------------------------

    fn open_launch(&mut self) {
        if self.state.data.examples.is_empty() {
            self.state.gui.dialog = Some(Dialog::Message {
                title: "Launch".into(),
                text: format!(
                    "no example configs in {}",
                    self.options.assets_dir.display()
                ),
                level: Level::Warn,
            });
            return;
        }
        self.state.gui.dialog = Some(Dialog::Launch(LaunchDialog {
            picked: None,
            cursor: 0,
            fields: vec![],
            field_cursor: 0,
            editing: false,
            error: None,
        }));
    }

    fn dialog_action(&mut self, action: Action) {
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
        };
    }

    fn delete_run(&mut self, id: &str) {
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

    fn launch_dialog(&mut self, mut d: LaunchDialog, action: Action) -> Option<LaunchDialog> {
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

    fn write_launch_config(&self, ex: &ExampleConfig, fields: &[Field]) -> Result<PathBuf, String> {
        let mut table = ex.value.clone().ok_or("config does not parse")?;
        for f in fields {
            set_path(&mut table, &f.path, parse_field(f)?);
        }
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

    fn export(&mut self) {
        match super::export::job_for(&self.state) {
            Ok(job) => {
                self.state.gui.busy.push("export".into());
                self.requests.push(Request::Export(job));
            }
            Err(e) => self.info(e, Level::Warn),
        }
    }

    // ----- background results -------------------------------------------------------------

    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Runs(summaries) => self.apply_runs(summaries),
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
                Done::Attn(a) => {
                    if self.pending_attn.as_ref() == Some(&a.key) {
                        self.pending_attn = None;
                    }
                    self.state.images.attn = Some(*a);
                }
            },
            Update::Gpu(g) => self.state.data.gpu = g,
            Update::Log(log) => self.state.data.log = Some(log),
            Update::Launched(out) => {
                self.state.gui.busy.retain(|b| *b != out.what);
                if out.ok {
                    let last = out.output.lines().last().unwrap_or("").to_string();
                    self.info(format!("{}: ok {last}", out.what), Level::Info);
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
                        self.info(
                            format!("exported to exports/: {}", names.join(", ")),
                            Level::Info,
                        );
                    }
                    Err(e) => self.info(format!("export failed: {e}"), Level::Error),
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
        self.state.data.runs = summaries
            .into_iter()
            .map(|s| {
                let metrics = old.remove(&s.id).map(|r| r.metrics).unwrap_or_default();
                RunData {
                    summary: s,
                    metrics,
                }
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
                    run: run.summary.id.clone(),
                    step: meta.step,
                    sel,
                    area: views::attention::overlay_area(size),
                };
                let frame_png = nearest_recon_frame(run, meta.step, key.sel.frame);
                let have = self.state.images.attn.as_ref().map(|a| &a.key) == Some(&key);
                if !have && self.pending_attn.as_ref() != Some(&key) {
                    self.pending_attn = Some(key.clone());
                    self.requests.push(Request::Image(Job::Attn(AttnJob {
                        key,
                        dir,
                        meta,
                        frame_png,
                    })));
                }
            }
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
        self.session_file.write(&path)
    }

    // ----- headless driver ----------------------------------------------------------------

    /// An app for tests: fixed clock, half-block images, no threads, no terminal.
    pub fn headless(
        options: Options,
        width: u16,
        height: u16,
        now: f64,
    ) -> anyhow::Result<Headless> {
        let mut app = App::new(options, Rect::new(0, 0, width, height))?;
        app.state.now = now;
        let loader = Loader::new(app.state.session.clone());
        let imager = Imager::new(ratatui_image::picker::Picker::halfblocks());
        let mut h = Headless {
            app,
            loader,
            imager,
            gpu: None,
        };
        h.settle();
        Ok(h)
    }
}

impl Headless {
    /// Like [`App::headless`] with the real clock, for benchmarks.
    pub fn new_for_bench(options: Options, width: u16, height: u16) -> anyhow::Result<Headless> {
        App::headless(options, width, height, crate::session::now_unix())
    }
}

/// Drives an [`App`] by actions alone, running background work inline (`settle`).
pub struct Headless {
    pub app: App,
    pub loader: Loader,
    pub imager: Imager,
    /// Read on every rescan; none by default, so tests do not depend on the machine's GPUs.
    pub gpu: Option<Box<dyn GpuSource>>,
}

impl Headless {
    /// Applies one action and finishes all the work it caused.
    pub fn act(&mut self, action: Action) -> &mut Self {
        self.app.handle(action);
        self.settle();
        self
    }

    pub fn act_all(&mut self, actions: &[Action]) -> &mut Self {
        for a in actions {
            self.act(a.clone());
        }
        self
    }

    pub fn state(&self) -> &State {
        &self.app.state
    }

    /// Runs every queued request to completion, including metrics tails and images.
    pub fn settle(&mut self) {
        for _ in 0..64 {
            self.app.request_images();
            self.app.request_log();
            let reqs: Vec<Request> = self.app.requests.drain(..).collect();
            if reqs.is_empty() {
                break;
            }
            for r in reqs {
                let update = match r {
                    Request::Rescan => {
                        let runs = self.loader.rescan();
                        self.app.apply(Update::Runs(runs));
                        loop {
                            let (deltas, behind) = self.loader.poll_metrics(usize::MAX / 4);
                            for d in deltas {
                                self.app.apply(Update::Metrics(d));
                            }
                            if !behind {
                                break;
                            }
                        }
                        if let Some(log) = self.loader.poll_log() {
                            self.app.apply(Update::Log(log));
                        }
                        if let Some(gpu) = &mut self.gpu {
                            self.app.apply(Update::Gpu(gpu.read()));
                        }
                        continue;
                    }
                    Request::Log(want) => match self.loader.want_log(want) {
                        Some(log) => Update::Log(log),
                        None => continue,
                    },
                    Request::Image(job) => Update::Image(Box::new(self.imager.run(job))),
                    Request::Command { what, args } => {
                        Update::Launched(self.app.options.launcher.run(&what, &args))
                    }
                    Request::Demo { config, make_data } => Update::Launched(
                        self.app
                            .options
                            .launcher
                            .demo(&self.app.state.session.root, &config, make_data)
                            .renamed(demo_name(&config)),
                    ),
                    Request::Export(job) => Update::Exported(job.run()),
                };
                self.app.apply(update);
            }
        }
    }

    /// Renders the current state into a test backend buffer.
    pub fn render(&self) -> ratatui::buffer::Buffer {
        let size = self.app.state.size;
        let backend = ratatui::backend::TestBackend::new(size.width, size.height);
        let mut terminal = ratatui::Terminal::new(backend).expect("test terminal");
        terminal
            .draw(|f| super::draw::draw(&self.app.state, f))
            .expect("draw");
        terminal.backend().buffer().clone()
    }
}

pub fn demo_name(config: &Path) -> String {
    if config
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("pretrain"))
    {
        "demo pre-training".into()
    } else {
        "demo fine-tuning".into()
    }
}

trait Renamed {
    fn renamed(self, what: String) -> Self;
}
impl Renamed for Outcome {
    fn renamed(mut self, what: String) -> Self {
        if self.ok {
            self.what = what;
        } else {
            self.output = format!("{}: {}", self.what, self.output);
            self.what = what;
        }
        self
    }
}

/// The first sample's original frame at (or nearest to) `step`, to draw attention over.
fn nearest_recon_frame(run: &RunData, step: u64, frame: usize) -> Option<PathBuf> {
    let best = run
        .summary
        .recon_steps
        .iter()
        .min_by_key(|s| s.abs_diff(step))?;
    let dir = run
        .summary
        .root
        .join("recon")
        .join(crate::session::layout::step_dir_name(*best));
    let meta = ReconMeta::read(&dir).ok()?;
    let sample = meta.samples.first()?.index;
    let p = ReconMeta::frame_file(
        &dir,
        sample,
        ReconKind::Original,
        frame.min(meta.frames.saturating_sub(1)),
    );
    p.exists().then_some(p)
}

/// Example run configs: `*.toml` files of `dir` with a `kind` of pretrain / finetune / eval.
pub fn list_examples(dir: &Path) -> Vec<ExampleConfig> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let name = path.file_stem()?.to_string_lossy().into_owned();
            match text.parse::<toml::Table>() {
                Ok(t) => {
                    let kind = t.get("kind")?.as_str()?.to_string();
                    ["pretrain", "finetune", "eval"]
                        .contains(&kind.as_str())
                        .then_some(ExampleConfig {
                            path,
                            name,
                            kind,
                            value: Some(t),
                            problem: None,
                        })
                }
                // Only files that look like run configs are offered; broken ones say why.
                Err(e) => text.contains("kind").then(|| ExampleConfig {
                    path: path.clone(),
                    name,
                    kind: "?".into(),
                    value: None,
                    problem: Some(format!("{}: {}", path.display(), e.message())),
                }),
            }
        })
        .collect()
}

/// Scalar leaves of a config as editable fields (`format` is not editable).
pub fn flatten_fields(table: &toml::Table) -> Vec<Field> {
    fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<Field>) {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(sub) => walk(&path, sub, out),
                toml::Value::Array(_) | toml::Value::Datetime(_) => {}
                _ if path == "format" => {}
                other => {
                    let value = match other {
                        toml::Value::String(s) => s.clone(),
                        x => x.to_string(),
                    };
                    out.push(Field {
                        path,
                        value,
                        original: other.clone(),
                        error: None,
                    });
                }
            }
        }
    }
    let mut out = Vec::new();
    walk("", table, &mut out);
    // Top-level identity first.
    out.sort_by_key(|f| {
        (
            !matches!(f.path.as_str(), "kind" | "name"),
            f.path.contains('.'),
        )
    });
    out
}

/// Parses a field by the type of its original value, with a few known constraints.
pub fn parse_field(f: &Field) -> Result<toml::Value, String> {
    let v = f.value.trim();
    let leaf = f.path.rsplit('.').next().unwrap_or(&f.path);
    let parsed = match &f.original {
        toml::Value::Integer(_) => v
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("{v:?} is not a whole number"))?,
        toml::Value::Float(_) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() => toml::Value::Float(x),
            _ => return Err(format!("{v:?} is not a number")),
        },
        toml::Value::Boolean(_) => match v {
            "true" => toml::Value::Boolean(true),
            "false" => toml::Value::Boolean(false),
            _ => return Err("true or false".into()),
        },
        _ => {
            if v.is_empty() {
                return Err("must not be empty".into());
            }
            toml::Value::String(v.to_string())
        }
    };
    match (leaf, &parsed) {
        ("kind", toml::Value::String(s))
            if !["pretrain", "finetune", "eval"].contains(&s.as_str()) =>
        {
            Err("pretrain, finetune or eval".into())
        }
        ("backend", toml::Value::String(s)) if !["cpu", "cuda", "wgpu"].contains(&s.as_str()) => {
            Err("cpu, cuda or wgpu".into())
        }
        ("name", toml::Value::String(s))
            if s.len() > 32
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Err("letters, digits, - or _, at most 32".into())
        }
        (_, toml::Value::Integer(i)) if *i < 0 => Err("must not be negative".into()),
        (_, toml::Value::Float(x)) if *x < 0.0 => Err("must not be negative".into()),
        _ => Ok(parsed),
    }
}

pub fn validate_field(f: &Field) -> Result<(), String> {
    parse_field(f).map(|_| ())
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or(path);
    let mut cur = table;
    for p in parts {
        let Some(next) = cur.get_mut(p).and_then(|v| v.as_table_mut()) else {
            return;
        };
        cur = next;
    }
    cur.insert(last.to_string(), value);
}

/// Used by the theme test and the bench: a theme by name or the default.
pub fn theme_named(themes: &[Theme], name: &str) -> Theme {
    themes
        .iter()
        .find(|t| t.name == name)
        .cloned()
        .unwrap_or_default()
}
