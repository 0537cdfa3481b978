//! What the workbench shows (`AppData`, read from the session) kept apart from how it is
//! shown (`GuiState`). `draw` takes `&State` and never changes it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ratatui::layout::Rect;

use super::gpu::GpuReadings;
use super::host::HostReadings;
use super::imager::{AttnReady, ReconReady};
use super::inspect_data::InspectionData;
use super::inspect_frame::FrameReady;
use super::keymap::KeyMap;
use super::loader::RunLog;
use super::run_data::RunData;
use super::theme::Theme;
use super::view::View;
use super::view_state::{AttnSel, CompareSel, InspectSel, MonitorOpts, ReconSel};
use crate::session::SessionDir;
use crate::session::cv_scan::CvResult;
use crate::session::log_window::LogPosition;

/// A run config the launch dialog offers: built into the binary (`path` none) or a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleConfig {
    pub path: Option<PathBuf>,
    pub name: String,
    pub kind: String,
    pub text: String,
    pub value: Option<toml::Table>,
    pub problem: Option<String>,
}

#[derive(Debug, Default)]
pub struct AppData {
    pub runs: Vec<RunData>,
    /// Cross-validations (`cv/`), pooled over their fold runs.
    pub cvs: Vec<CvResult>,
    /// True once the first scan came back.
    pub scanned: bool,
    pub examples: Vec<ExampleConfig>,
    pub gpu: GpuReadings,
    /// CPU and memory of this machine, read every couple of seconds.
    pub host: Option<HostReadings>,
    /// The window of the selected run's log read last (maybe of another run, briefly).
    pub log: Option<RunLog>,
    /// Videos inspected in this session (`inspect/`), oldest first.
    pub inspections: Vec<InspectionData>,
}

impl AppData {
    pub fn run(&self, id: &str) -> Option<&RunData> {
        self.runs.iter().find(|r| r.summary.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// An editable field of the launch dialog: a scalar of the config at a dotted path.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub path: String,
    pub value: String,
    pub original: toml::Value,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LaunchDialog {
    /// Index into `AppData::examples` once one is picked; `None` while picking.
    pub picked: Option<usize>,
    pub cursor: usize,
    pub fields: Vec<Field>,
    pub field_cursor: usize,
    pub editing: bool,
    pub error: Option<String>,
}

/// The Inspect view's open-a-video dialog: the typed path, the highlighted candidate, the
/// candidates, and the run whose model will score the video.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenVideo {
    pub text: String,
    pub cursor: usize,
    pub candidates: Vec<String>,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Launch(LaunchDialog),
    OpenVideo(OpenVideo),
    ConfirmDelete {
        run_id: String,
    },
    Message {
        title: String,
        text: String,
        level: Level,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuiState {
    pub view: View,
    pub selected: Option<String>,
    /// Row of the selection in the filtered list, to land nearby when the run vanishes.
    pub selected_row: usize,
    pub filter: String,
    pub filtering: bool,
    pub help: bool,
    /// First line of the help shown (it scrolls when taller than the terminal).
    pub help_scroll: u16,
    pub dialog: Option<Dialog>,
    pub status: Option<(String, Level)>,
    pub monitor: MonitorOpts,
    pub recon: ReconSel,
    pub attn: AttnSel,
    pub compare: CompareSel,
    pub inspect: InspectSel,
    /// Runs marked (space in Runs and Compare): overlaid in the Monitor, diffed in Compare.
    pub marked: BTreeSet<String>,
    /// Where the Monitor view's log pane is: following the end, or scrolled back.
    pub log_position: LogPosition,
    /// Commands started by the workbench and not yet finished (launch, demo, …).
    pub busy: Vec<String>,
    pub quit: bool,
}

/// Images prepared off the UI thread.
#[derive(Default)]
pub struct Images {
    pub recon: Option<ReconReady>,
    pub attn: Option<AttnReady>,
    /// The Inspect view's frame with the face, and its window's attention over the face.
    pub inspect_frame: Option<FrameReady>,
    pub inspect_attn: Option<AttnReady>,
    /// Image protocol in use (halfblocks, sixel, kitty, iterm2).
    pub protocol: String,
    /// Draw image areas blank this frame (see `image_redraw`).
    pub blanking: bool,
}

/// Everything `draw` needs.
pub struct State {
    pub session: SessionDir,
    pub session_name: String,
    pub data: AppData,
    pub gui: GuiState,
    pub theme: Theme,
    pub themes: Vec<Theme>,
    pub keymap: KeyMap,
    pub images: Images,
    /// Unix seconds used for heartbeats and ETAs (fixed in tests).
    pub now: f64,
    pub size: Rect,
}

impl State {
    /// True while a text field takes the keys (run filter, picker, launch field).
    pub fn typing(&self) -> bool {
        self.gui.filtering
            || self.gui.monitor.picker.is_some()
            || matches!(&self.gui.dialog, Some(Dialog::Launch(d)) if d.editing)
            || matches!(&self.gui.dialog, Some(Dialog::OpenVideo(_)))
    }

    /// The runs the Monitor overlays: the selected run, then the marked ones in id order.
    pub fn overlay_runs(&self) -> Vec<&RunData> {
        let selected = self.selected_run();
        let mut out: Vec<&RunData> = selected.into_iter().collect();
        for id in &self.gui.marked {
            if let Some(r) = self.data.run(id)
                && selected.is_none_or(|s| s.summary.id != *id)
            {
                out.push(r);
            }
        }
        out
    }

    /// Indices into `data.runs` that pass the filter, in display order.
    pub fn visible_runs(&self) -> Vec<usize> {
        let f = self.gui.filter.to_lowercase();
        self.data
            .runs
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                if f.is_empty() {
                    return true;
                }
                let s = &r.summary;
                let state = r.shown_state(self.now).label();
                [
                    s.id.as_str(),
                    s.kind.as_str(),
                    s.dataset.as_str(),
                    s.preset.as_str(),
                    state,
                ]
                .iter()
                .any(|t| t.to_lowercase().contains(&f))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The selected run (the first visible one when nothing is selected).
    pub fn selected_run(&self) -> Option<&RunData> {
        let vis = self.visible_runs();
        let row = self.selected_visible_row(&vis)?;
        self.data.runs.get(vis[row])
    }

    pub fn selected_visible_row(&self, vis: &[usize]) -> Option<usize> {
        if vis.is_empty() {
            return None;
        }
        if let Some(id) = &self.gui.selected
            && let Some(pos) = vis
                .iter()
                .position(|&i| self.data.runs[i].summary.id == *id)
        {
            return Some(pos);
        }
        Some(self.gui.selected_row.min(vis.len() - 1))
    }
}
