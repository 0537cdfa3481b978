//! The messages between the app and its background work: `Request`s the app queues (the
//! event loop hands them to threads, the headless driver runs them inline) and the
//! `Update`s that come back; and the name a demo command's outcome is shown under.

use std::path::{Path, PathBuf};

use super::export::ExportJob;
use super::gpu::GpuReadings;
use super::host::HostReadings;
use super::imager::{Done, Job};
use super::inspect_data::InspectionData;
use super::loader::{LogWant, MetricsDelta, RunLog};
use crate::session::cv_scan::CvResult;
use crate::session::launcher::Outcome;
use crate::session::scan::RunSummary;

/// Results coming back from background work.
pub enum Update {
    Runs(Vec<RunSummary>),
    /// The session's cross-validations (after each rescan).
    Cvs(Vec<CvResult>),
    /// The session's inspected videos (after each rescan).
    Inspections(Vec<InspectionData>),
    Metrics(MetricsDelta),
    Image(Box<Done>),
    Gpu(GpuReadings),
    Host(HostReadings),
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
    Export(ExportJob),
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

pub trait Renamed {
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
