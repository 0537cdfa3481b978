//! What the workbench shows (`AppData`, read from the session) kept apart from how it is
//! shown (`GuiState`). `draw` takes `&State` and never changes it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ratatui::layout::Rect;

use super::keymap::KeyMap;
use super::loader::RunLog;
use super::theme::Theme;
use crate::session::log_window::LogPosition;
use crate::session::metrics::MetricRecord;
use crate::session::scan::RunSummary;
use crate::session::{RunState, SessionDir};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Runs,
    Monitor,
    Recon,
    Attention,
    Compare,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Runs,
        View::Monitor,
        View::Recon,
        View::Attention,
        View::Compare,
    ];
    pub fn name(self) -> &'static str {
        match self {
            View::Runs => "runs",
            View::Monitor => "monitor",
            View::Recon => "recon",
            View::Attention => "attention",
            View::Compare => "compare",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            View::Runs => "Runs",
            View::Monitor => "Monitor",
            View::Recon => "Reconstructions",
            View::Attention => "Attention",
            View::Compare => "Compare",
        }
    }
    pub fn from_name(s: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == s)
    }
    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// Most points a series keeps; beyond it every other point is dropped and the stride doubles
/// (min/max/last stay exact), so a 1 GB metrics file needs bounded memory.
pub const SERIES_CAP: usize = 20_000;

#[derive(Debug, Clone, Default)]
pub struct Series {
    /// (step, value), steps increasing as written.
    pub points: Vec<(f64, f64)>,
    stride: u64,
    seen: u64,
    pub last: Option<(f64, f64)>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Series {
    pub fn push(&mut self, x: f64, y: f64) {
        if !y.is_finite() {
            return;
        }
        self.last = Some((x, y));
        self.min = Some(self.min.map_or(y, |m| m.min(y)));
        self.max = Some(self.max.map_or(y, |m| m.max(y)));
        let stride = self.stride.max(1);
        if self.seen.is_multiple_of(stride) {
            self.points.push((x, y));
            if self.points.len() > SERIES_CAP {
                let kept: Vec<(f64, f64)> = self.points.iter().copied().step_by(2).collect();
                self.points = kept;
                self.stride = stride * 2;
            }
        }
        self.seen += 1;
    }
    /// Points plus the exact last point when decimation skipped it.
    pub fn points_with_last(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let extra = match (self.points.last(), self.last) {
            (Some(p), Some(l)) if *p != l => Some(l),
            _ => None,
        };
        self.points.iter().copied().chain(extra)
    }
    pub fn count(&self) -> u64 {
        self.seen
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    /// ((split, name), series), sorted by key; a run has a handful of series, so a sorted
    /// vector searched without allocating beats a map keyed by owned strings.
    pub series: Vec<((String, String), Series)>,
    pub bytes_read: u64,
    pub file_len: u64,
    pub bad_lines: usize,
}

impl RunMetrics {
    fn position(&self, split: &str, name: &str) -> Result<usize, usize> {
        self.series
            .binary_search_by(|((sp, n), _)| (sp.as_str(), n.as_str()).cmp(&(split, name)))
    }
    pub fn apply(&mut self, records: &[MetricRecord]) {
        let mut last: Option<usize> = None;
        for r in records {
            // Consecutive records often share a series: check the last one first.
            let i = match last {
                Some(i) if self.series[i].0.0 == r.split && self.series[i].0.1 == r.name => i,
                _ => match self.position(&r.split, &r.name) {
                    Ok(i) => i,
                    Err(i) => {
                        self.series
                            .insert(i, ((r.split.clone(), r.name.clone()), Series::default()));
                        i
                    }
                },
            };
            self.series[i].1.push(r.step as f64, r.value);
            last = Some(i);
        }
    }
    pub fn get(&self, split: &str, name: &str) -> Option<&Series> {
        self.position(split, name).ok().map(|i| &self.series[i].1)
    }
    /// Metric names in display order: loss first, then the rest alphabetically.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.series.iter().map(|((_, n), _)| n.clone()).collect();
        names.sort();
        names.dedup();
        names.sort_by_key(|n| (n != "loss", n.clone()));
        names
    }
    pub fn loading(&self) -> bool {
        self.bytes_read < self.file_len
    }
}

/// A metric where larger is better (accuracy-like) or smaller is better (loss-like).
pub fn higher_is_better(name: &str) -> bool {
    !matches!(name, "loss" | "mae" | "mse" | "grad_norm" | "rmse")
}

#[derive(Debug, Clone, Default)]
pub struct RunData {
    pub summary: RunSummary,
    pub metrics: RunMetrics,
}

/// How a run is shown: its state, or `lost` when a running run's heartbeat stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownState {
    NoStatus,
    Queued,
    Running,
    Lost,
    Finished,
    Failed,
    Stopped,
}

impl ShownState {
    pub fn label(self) -> &'static str {
        match self {
            ShownState::NoStatus => "new",
            ShownState::Queued => "queued",
            ShownState::Running => "running",
            ShownState::Lost => "lost",
            ShownState::Finished => "finished",
            ShownState::Failed => "failed",
            ShownState::Stopped => "stopped",
        }
    }
}

impl RunData {
    pub fn id(&self) -> &str {
        &self.summary.id
    }
    pub fn shown_state(&self, now: f64) -> ShownState {
        match &self.summary.status {
            None => ShownState::NoStatus,
            Some(s) if s.is_stale(now) => ShownState::Lost,
            Some(s) => match s.state {
                RunState::Queued => ShownState::Queued,
                RunState::Running => ShownState::Running,
                RunState::Finished => ShownState::Finished,
                RunState::Failed => ShownState::Failed,
                RunState::Stopped => ShownState::Stopped,
            },
        }
    }
    /// The run's headline number: an evaluation metric, else the best validation metric,
    /// else the lowest loss.
    pub fn best_metric(&self) -> Option<(String, f64)> {
        for e in &self.summary.evals {
            for k in ["uar", "ccc", "weighted_f1", "acc", "war"] {
                if let Some(v) = e.metrics.get(k) {
                    return Some((k.to_string(), *v));
                }
            }
        }
        for split in ["val", "test"] {
            for k in ["uar", "ccc", "weighted_f1", "acc", "war"] {
                if let Some(s) = self.metrics.get(split, k) {
                    return s.max.map(|v| (k.to_string(), v));
                }
            }
        }
        for split in ["val", "train"] {
            if let Some(s) = self.metrics.get(split, "loss") {
                return s.min.map(|v| ("loss".to_string(), v));
            }
        }
        None
    }
}

/// An example run config (`assets/*.toml`) offered by the launch dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleConfig {
    pub path: PathBuf,
    pub name: String,
    pub kind: String,
    pub value: Option<toml::Table>,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuDevice {
    pub name: String,
    pub util_percent: u32,
    pub mem_used: u64,
    pub mem_total: u64,
    pub power_w: Option<f64>,
}

/// What the GPU panel shows: plain data, whichever source it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum GpuReadings {
    /// Before the first reading.
    #[default]
    NotYet,
    /// Why there is nothing (no NVML library, no driver, no GPU).
    Unavailable(String),
    Devices(Vec<GpuDevice>),
}

#[derive(Debug, Default)]
pub struct AppData {
    pub runs: Vec<RunData>,
    /// True once the first scan came back.
    pub scanned: bool,
    pub examples: Vec<ExampleConfig>,
    pub gpu: GpuReadings,
    /// The window of the selected run's log read last (maybe of another run, briefly).
    pub log: Option<RunLog>,
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

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Launch(LaunchDialog),
    ConfirmDelete {
        run_id: String,
    },
    Message {
        title: String,
        text: String,
        level: Level,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorOpts {
    pub metric: usize,
    /// Index into [`SMOOTHING`].
    pub smoothing: usize,
    pub log_scale: bool,
    /// Show only the most recent [`RECENT_WINDOW`] steps.
    pub recent: bool,
    /// Overlay validation on training curves.
    pub overlay: bool,
}

pub const SMOOTHING: [f64; 4] = [0.0, 0.6, 0.9, 0.99];
pub const RECENT_WINDOW: f64 = 1000.0;

impl Default for MonitorOpts {
    fn default() -> Self {
        Self {
            metric: 0,
            smoothing: 0,
            log_scale: false,
            recent: false,
            overlay: true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReconSel {
    pub step: usize,
    pub sample: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttnSel {
    pub step: usize,
    pub map: usize,
    pub head: usize,
    pub frame: usize,
    /// Query token (the bottleneck token for cross-attention).
    pub token: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareSel {
    pub cursor: usize,
    pub sort_col: usize,
    pub reverse: bool,
    pub marked: BTreeSet<String>,
    pub eval: usize,
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
    pub dialog: Option<Dialog>,
    pub status: Option<(String, Level)>,
    pub monitor: MonitorOpts,
    pub recon: ReconSel,
    pub attn: AttnSel,
    pub compare: CompareSel,
    /// Where the Monitor view's log pane is: following the end, or scrolled back.
    pub log_position: LogPosition,
    /// Commands started by the workbench and not yet finished (launch, demo, …).
    pub busy: Vec<String>,
    pub quit: bool,
}

/// Images prepared off the UI thread.
#[derive(Default)]
pub struct Images {
    pub recon: Option<super::imager::ReconReady>,
    pub attn: Option<super::imager::AttnReady>,
    /// Image protocol in use (halfblocks, sixel, kitty, iterm2).
    pub protocol: String,
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
