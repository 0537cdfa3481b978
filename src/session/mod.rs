//! The on-disk session contract (DESIGN §3): layout, readers and writers, watcher, launcher.
//!
//! Everything the workbench shows comes from these files, and everything a run writes goes
//! through the writers here, so the trainer and the TUI agree on one definition.
//! Every top-level file carries `format = 1`.
//!
//! What a run (the training worker) does, in order:
//! 1. [`RunDir::create`], then write `run.toml` (the frozen config);
//! 2. [`RunStatus`] with `state = Running`, `pid = std::process::id()`,
//!    `host = host::hostname()`: [`RunStatus::touch`] + [`RunStatus::write_atomic`] at
//!    least every 60 s (the heartbeat) and at every state change (`Finished`, `Failed` with
//!    `last_error`, `Stopped` on SIGTERM);
//! 3. [`MetricsWriter::log`] for each scalar (`train`/`val`/`test`; `loss`, `lr`,
//!    `clips_per_s`, `uar`, …);
//! 4. a checkpoint file, then [`RunDir::write_latest`];
//! 5. reconstruction PNGs ([`ReconMeta::frame_file`]) then [`ReconMeta::write`]; attention
//!    `.npy` arrays then [`AttnMeta::write`] (readers look for `meta.json` last);
//! 6. [`EvalReport::write`] to [`RunDir::eval_file`].
//!
//! A cross-validation (`svfap-tui cv`) adds [`CvDir`] folders under `cv/` beside `runs/`:
//! [`CvSummary::write`] to `cv.json` and the pooled [`EvalReport`] to [`CvDir::eval_file`].
//!
//! `fixtures` writes complete example sessions through these same writers.

pub mod artifacts;
pub mod cv_scan;
pub mod error;
pub mod fault;
pub mod file;
pub mod fixture_inspection;
pub mod fixtures;
pub mod host;
pub mod inspection;
pub mod launcher;
pub mod layout;
pub mod listing;
pub mod log_window;
pub mod metrics;
pub mod partial_dir;
pub mod periodic;
pub mod run_lock;
pub mod scan;
pub mod status;
pub mod watcher;

pub use artifacts::{AttnMap, AttnMeta, CvFold, CvSummary, EvalReport, ReconMeta, ReconSample};
pub use error::SessionError;
pub use file::{SessionFile, UiState};
pub use launcher::Launcher;
pub use layout::{CvDir, RunDir, SessionDir};
pub use metrics::{MetricRecord, MetricsTail, MetricsWriter, ResumePoint};
pub use run_lock::{LockHolder, RunLock};
pub use status::{RankStatus, RunState, RunStatus};

/// The contract version written into every top-level file.
pub const FORMAT: u32 = 1;

/// Writes `bytes` to `path` crash-safely: a temporary file in the same folder, then rename.
/// On failure the temporary is removed and the error names `path` (the file the caller
/// meant), not the temporary.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), SessionError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        fault::check(path)?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|error| {
        std::fs::remove_file(&tmp).ok();
        SessionError::Io {
            path: path.to_path_buf(),
            error,
        }
    })
}

/// Replaces `path`'s bytes in place (no temporary, so no new inode and directory entry): the
/// last resort for recording a failure on a full disk. Not crash-safe; readers retry.
pub fn overwrite_in_place(path: &std::path::Path, bytes: &[u8]) -> Result<(), SessionError> {
    use std::io::Write;
    let io = SessionError::io(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(SessionError::io(path))?;
    f.write_all(bytes)
        .and_then(|()| f.set_len(bytes.len() as u64))
        .and_then(|()| f.sync_all())
        .map_err(io)
}

/// Current time as RFC 3339 (UTC), the contract's timestamp format.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Seconds since the Unix epoch as f64 (the `time` field of metrics lines).
pub fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Parses an RFC 3339 timestamp into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}
