//! Reads the session folder: run summaries on each rescan, metrics incrementally, and the
//! window of the selected run's log that the Monitor view shows.
//! Runs on a background thread in the app, inline in the headless driver.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::inspect_data::{InspectionData, read_inspections};
use crate::session::SessionDir;
use crate::session::cv_scan::{CvResult, read_cv};
use crate::session::log_window::{LogPosition, LogWindow};
use crate::session::metrics::{MetricRecord, MetricsTail};
use crate::session::scan::{RunSummary, ScanCache, read_run_cached};

/// New metric records of one run.
#[derive(Debug)]
pub struct MetricsDelta {
    pub run: String,
    pub records: Vec<MetricRecord>,
    pub reset: bool,
    pub bytes_read: u64,
    pub file_len: u64,
    pub bad_lines: usize,
}

/// The part of a run's log a view wants.
#[derive(Debug, Clone, PartialEq)]
pub struct LogWant {
    pub run: String,
    pub path: PathBuf,
    pub position: LogPosition,
    /// Lines the view shows at once.
    pub rows: usize,
}

/// The log window of one run, as last read.
#[derive(Debug, Clone)]
pub struct RunLog {
    pub run: String,
    pub window: LogWindow,
}

pub struct Loader {
    pub session: SessionDir,
    tails: HashMap<String, MetricsTail>,
    order: Vec<String>,
    next: usize,
    cache: ScanCache,
    log: Option<(LogWant, LogWindow)>,
}

/// Bytes of metrics read per poll (about 40k records): keeps each step short.
pub const POLL_BUDGET: usize = 4 << 20;

impl Loader {
    pub fn new(session: SessionDir) -> Self {
        Self {
            session,
            tails: HashMap::new(),
            order: Vec::new(),
            next: 0,
            cache: ScanCache::default(),
            log: None,
        }
    }

    /// Changes which log lines are read; returns the window when it changed (always for
    /// another run's log, so the previous run's lines are not shown for it).
    pub fn want_log(&mut self, want: LogWant) -> Option<RunLog> {
        match &mut self.log {
            Some((w, _)) if w.path == want.path => {
                *w = want;
                self.poll_log()
            }
            _ => {
                let mut window = LogWindow::new(&want.path);
                // An unreadable log shows as empty.
                let _ = window.update(want.position, want.rows);
                let log = RunLog {
                    run: want.run.clone(),
                    window: window.clone(),
                };
                self.log = Some((want, window));
                Some(log)
            }
        }
    }

    /// Reads what the wanted log window lacks and any lines appended since the last poll;
    /// returns the window when it changed.
    pub fn poll_log(&mut self) -> Option<RunLog> {
        let (want, window) = self.log.as_mut()?;
        match window.update(want.position, want.rows) {
            Ok(true) => Some(RunLog {
                run: want.run.clone(),
                window: window.clone(),
            }),
            Ok(false) | Err(_) => None,
        }
    }

    /// Lists and reads every run; starts tails for new runs, drops those of vanished ones.
    pub fn rescan(&mut self) -> Vec<RunSummary> {
        let cache = &mut self.cache;
        let runs: Vec<RunSummary> = self
            .session
            .list_runs()
            .iter()
            .map(|r| read_run_cached(r, cache))
            .collect();
        self.cache.retain_existing();
        let ids: Vec<String> = runs.iter().map(|r| r.id.clone()).collect();
        self.tails.retain(|id, _| ids.contains(id));
        for r in &runs {
            self.tails
                .entry(r.id.clone())
                .or_insert_with(|| MetricsTail::new(r.root.join("metrics.jsonl")));
        }
        self.order = ids;
        runs
    }

    /// The session's cross-validations, read on each rescan (small files; pooled
    /// evaluations through the scan cache).
    pub fn rescan_cvs(&mut self) -> Vec<CvResult> {
        let cache = &mut self.cache;
        self.session
            .list_cvs()
            .iter()
            .map(|cv| read_cv(cv, cache))
            .collect()
    }

    /// The session's inspected videos, read on each rescan (their records are small; the
    /// attention maps are only listed).
    pub fn rescan_inspections(&self) -> Vec<InspectionData> {
        read_inspections(&self.session)
    }

    /// True when a changed path needs a rescan (anything but metrics or log lines, which are
    /// read incrementally).
    pub fn needs_rescan(paths: &[PathBuf]) -> bool {
        paths.iter().any(|p| {
            p.file_name()
                .is_none_or(|n| n != "metrics.jsonl" && n != "log.txt")
        })
    }

    /// Reads up to `budget` bytes of new metrics across runs, round-robin.
    /// Returns the deltas and whether any file still has unread bytes.
    pub fn poll_metrics(&mut self, budget: usize) -> (Vec<MetricsDelta>, bool) {
        let mut out = Vec::new();
        let mut spent = 0usize;
        let n = self.order.len();
        for i in 0..n {
            if spent >= budget {
                break;
            }
            let id = &self.order[(self.next + i) % n];
            let Some(tail) = self.tails.get_mut(id) else {
                continue;
            };
            let before = tail.offset();
            match tail.poll(budget - spent) {
                Ok(chunk) => {
                    spent += (tail.offset().saturating_sub(before)) as usize;
                    if chunk.reset
                        || !chunk.records.is_empty()
                        || chunk.bad_lines > 0
                        || tail.offset() != before
                    {
                        out.push(MetricsDelta {
                            run: id.clone(),
                            records: chunk.records,
                            reset: chunk.reset,
                            bytes_read: tail.offset(),
                            file_len: tail.file_len(),
                            bad_lines: chunk.bad_lines,
                        });
                    }
                }
                Err(_) => continue,
            }
        }
        if n > 0 {
            self.next = (self.next + 1) % n;
        }
        let behind = self.tails.values().any(|t| t.behind());
        (out, behind)
    }

    pub fn session_root(&self) -> &Path {
        &self.session.root
    }
}
