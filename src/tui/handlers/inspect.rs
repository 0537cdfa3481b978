//! Keys of the Inspect view and its open-a-video dialog: windows left/right, videos up/down,
//! `o` opens a video (typed path with completion, or a clip of the run's test manifest) and
//! scores it with a fine-tuned run as a worker process (`infer --inspect`), `a` computes the
//! attention maps of the current window, `[`/`]` and `,`/`.` pick the map and the head.

use std::path::{Path, PathBuf};

use crate::session::RunDir;
use crate::session::artifacts::AttnMeta;
use crate::session::inspection::{InspectionDir, inspection_name};
use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::path_completion::{candidates, complete};
use crate::tui::request::Request;
use crate::tui::state::{Dialog, Level, OpenVideo};
use crate::tui::views::inspect::{
    attention_task, current, current_window, model_run, scoring_task,
};

/// Clips of a manifest offered when nothing is typed.
const MANIFEST_CLIPS: usize = 500;

impl Ctx<'_> {
    pub fn inspect_action(&mut self, action: Action) {
        let windows = current(self.state)
            .and_then(|d| d.inspection())
            .map(|i| (current_window(self.state, i), i.windows.len()));
        let sel = &mut self.state.gui.inspect;
        let mut move_window = |delta: isize| {
            if let Some((w, n)) = windows {
                let to = (w as isize + delta).clamp(0, n.saturating_sub(1) as isize);
                sel.window = Some(to as usize);
            }
        };
        match action {
            Action::Left => move_window(-1),
            Action::Right => move_window(1),
            Action::PageUp => move_window(-10),
            Action::PageDown => move_window(10),
            Action::Top => move_window(isize::MIN / 2),
            Action::Bottom => move_window(isize::MAX / 2),
            Action::Up => self.move_inspection(-1),
            Action::Down => self.move_inspection(1),
            Action::NextMap | Action::PrevMap => self.step_map(action == Action::NextMap),
            Action::NextHead => sel.head += 1,
            Action::PrevHead => sel.head = sel.head.saturating_sub(1),
            Action::OpenVideo | Action::Select => self.open_video_dialog(),
            Action::WindowAttention => self.window_attention(),
            _ => {}
        }
    }

    /// The next or previous attention map of the current window, wrapping around.
    fn step_map(&mut self, forward: bool) {
        let Some(data) = current(self.state) else {
            return;
        };
        let Some(insp) = data.inspection() else {
            return;
        };
        let w = current_window(self.state, insp);
        let Ok(meta) = AttnMeta::read(&data.dir.attn(w)) else {
            return;
        };
        let n = meta.maps.len();
        if n == 0 {
            return;
        }
        let shown = self
            .state
            .images
            .inspect_attn
            .as_ref()
            .filter(|a| a.key.step == w as u64)
            .map(|a| a.key.sel.map);
        let now = self.state.gui.inspect.map.or(shown).unwrap_or(0) % n;
        self.state.gui.inspect.map = Some(if forward {
            (now + 1) % n
        } else {
            (now + n - 1) % n
        });
    }

    fn move_inspection(&mut self, delta: isize) {
        let all = &self.state.data.inspections;
        if all.is_empty() {
            return;
        }
        let at = current(self.state)
            .and_then(|c| all.iter().position(|i| i.name == c.name))
            .unwrap_or(all.len() - 1) as isize;
        let to = (at + delta).clamp(0, all.len() as isize - 1) as usize;
        let name = all[to].name.clone();
        let sel = &mut self.state.gui.inspect;
        if sel.name.as_ref() != Some(&name) {
            sel.name = Some(name);
            sel.window = None;
        }
    }

    fn open_video_dialog(&mut self) {
        let Some(run) = model_run(self.state) else {
            return self.info(
                "no fine-tuned run with a checkpoint in this session: fine-tune one first",
                Level::Warn,
            );
        };
        let mut d = OpenVideo {
            text: String::new(),
            cursor: 0,
            candidates: Vec::new(),
            model: run.summary.id.clone(),
        };
        self.refresh_candidates(&mut d);
        self.state.gui.dialog = Some(Dialog::OpenVideo(d));
    }

    /// The completions of the typed text; with nothing typed, the clips of the model run's
    /// test manifest.
    fn refresh_candidates(&self, d: &mut OpenVideo) {
        d.cursor = 0;
        d.candidates = if d.text.is_empty() {
            self.state
                .data
                .run(&d.model)
                .and_then(|r| r.summary.config.as_ref())
                .map(manifest_clips)
                .unwrap_or_default()
        } else {
            candidates(&d.text, &cwd())
        };
    }

    /// Keys inside the open-a-video dialog; `None` closes it.
    pub fn open_video_action(&mut self, mut d: OpenVideo, action: Action) -> Option<OpenVideo> {
        match action {
            Action::Back => return None,
            Action::Char(c) => {
                d.text.push(c);
                self.refresh_candidates(&mut d);
            }
            Action::Backspace => {
                d.text.pop();
                self.refresh_candidates(&mut d);
            }
            Action::Up => d.cursor = d.cursor.saturating_sub(1),
            Action::Down => d.cursor = (d.cursor + 1).min(d.candidates.len().saturating_sub(1)),
            Action::Complete => {
                let longer = complete(&d.text, &cwd());
                d.text = if longer != d.text || d.candidates.is_empty() {
                    longer
                } else {
                    d.candidates[d.cursor.min(d.candidates.len() - 1)].clone()
                };
                self.refresh_candidates(&mut d);
            }
            Action::Select => {
                let typed = absolute(&d.text);
                let chosen = if !d.text.is_empty() && readable_input(&typed) {
                    typed
                } else if let Some(c) = d.candidates.get(d.cursor) {
                    absolute(c)
                } else {
                    typed
                };
                if chosen.is_dir() && !is_frame_folder(&chosen) {
                    // A folder of videos or folders: go into it.
                    d.text = format!("{}/", chosen.display());
                    self.refresh_candidates(&mut d);
                    return Some(d);
                }
                if !chosen.exists() {
                    self.info(
                        format!("{}: does not exist", chosen.display()),
                        Level::Error,
                    );
                    return Some(d);
                }
                self.start_inspection(&d.model, &chosen);
                return None;
            }
            _ => {}
        }
        Some(d)
    }

    /// Scores `video` with `model`'s latest checkpoint into a fresh inspection folder.
    fn start_inspection(&mut self, model: &str, video: &Path) {
        let Some(run) = self.state.data.run(model) else {
            return self.info(format!("{model} is gone"), Level::Error);
        };
        let Some(checkpoint) = RunDir::new(run.summary.root.clone()).read_latest() else {
            return self.info(format!("{model} has no checkpoint"), Level::Error);
        };
        let name = inspection_name(video, model);
        let dir = InspectionDir::new(self.state.session.inspect().join(&name));
        // A new inspection of the same video with the same run replaces the old one.
        if dir.root.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir.root)
        {
            return self.info(format!("{}: {e}", dir.root.display()), Level::Error);
        }
        if let Err(e) = std::fs::create_dir_all(&dir.root) {
            return self.info(format!("{}: {e}", dir.root.display()), Level::Error);
        }
        let args = vec![
            "infer".to_string(),
            "--checkpoint".into(),
            checkpoint.display().to_string(),
            video.display().to_string(),
            "--inspect".into(),
            dir.root.display().to_string(),
        ];
        let sel = &mut self.state.gui.inspect;
        sel.name = Some(name.clone());
        sel.window = None;
        self.command(scoring_task(&name), args);
        self.requests.push(Request::Rescan);
    }

    fn window_attention(&mut self) {
        let Some(data) = current(self.state) else {
            return self.info("no video inspected yet: press o to open one", Level::Warn);
        };
        let Some(insp) = data.inspection() else {
            return self.info(format!("{} is still being scored", data.name), Level::Warn);
        };
        let w = current_window(self.state, insp);
        let task = attention_task(&data.name, w);
        if self.state.gui.busy.contains(&task) {
            return self.info(format!("{task}: already running"), Level::Info);
        }
        let args = vec![
            "infer".to_string(),
            "--checkpoint".into(),
            insp.checkpoint.display().to_string(),
            insp.video.display().to_string(),
            "--inspect".into(),
            data.dir.root.display().to_string(),
            "--attention-window".into(),
            (w + 1).to_string(),
        ];
        self.command(task, args);
    }
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// `text` as an absolute path (`~/` is home; relative to the working folder).
fn absolute(text: &str) -> PathBuf {
    let p = match text.strip_prefix("~/") {
        Some(rest) => {
            std::env::var_os("HOME").map_or(PathBuf::from(text), |h| Path::new(&h).join(rest))
        }
        None => PathBuf::from(text),
    };
    let p = if p.is_absolute() { p } else { cwd().join(p) };
    // A trailing slash names the folder itself.
    PathBuf::from(p.to_string_lossy().trim_end_matches('/'))
}

fn is_frame_folder(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.path().extension().is_some_and(|x| {
                let x = x.to_string_lossy().to_lowercase();
                ["jpg", "jpeg", "png", "bmp"].contains(&x.as_str())
            })
        })
}

/// A file, or a folder of frames: what `infer` scores as one video.
fn readable_input(p: &Path) -> bool {
    p.is_file() || (p.is_dir() && is_frame_folder(p))
}

/// The clips of a run's test manifest (first column, against `data.root`), as absolute paths.
fn manifest_clips(config: &toml::Value) -> Vec<String> {
    let data = config.get("data");
    let field = |k: &str| {
        data.and_then(|d| d.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let (root, test, strip) = (field("root"), field("test"), field("strip_prefix"));
    if test.is_empty() {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(&test) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|p| !p.starts_with('#'))
        .take(MANIFEST_CLIPS)
        .map(|p| {
            let path = match (!strip.is_empty())
                .then(|| p.strip_prefix(strip.as_str()))
                .flatten()
            {
                Some(rest) => Path::new(&root).join(rest.trim_start_matches('/')),
                None if Path::new(p).is_absolute() => PathBuf::from(p),
                None => Path::new(&root).join(p),
            };
            path.display().to_string()
        })
        .collect()
}
