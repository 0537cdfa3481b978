//! `status.json`: the run's state and heartbeat, written atomically.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SessionError;
use super::error::check_format;

/// A `running` run whose heartbeat (`updated`) is older than this is shown as lost.
pub const STALE_AFTER_SECONDS: f64 = 60.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    #[default]
    Queued,
    Running,
    Finished,
    Failed,
    Stopped,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Finished => "finished",
            RunState::Failed => "failed",
            RunState::Stopped => "stopped",
        }
    }
    pub fn is_active(self) -> bool {
        matches!(self, RunState::Queued | RunState::Running)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunStatus {
    pub format: u32,
    pub state: RunState,
    pub pid: Option<u32>,
    pub host: String,
    /// RFC 3339.
    pub started: Option<String>,
    /// RFC 3339; the heartbeat.
    pub updated: Option<String>,
    pub step: u64,
    pub epoch: u64,
    pub total_steps: u64,
    pub total_epochs: u64,
    /// Clips per second.
    pub throughput: f64,
    pub eta_seconds: Option<f64>,
    pub last_error: Option<String>,
    /// What a running worker is busy with besides steps ("compiling kernels" during a GPU
    /// run's first step); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// Processes of the run (an MPI job's ranks; 1 for one process).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub world_size: u64,
    /// Each rank's heartbeat (several processes only), by rank; `throughput` above is the
    /// whole job's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranks: Vec<RankStatus>,
}

fn one() -> u64 {
    1
}

fn is_one(v: &u64) -> bool {
    *v == 1
}

/// One rank of a run of several processes, as its own heartbeat last said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RankStatus {
    pub rank: u64,
    pub host: String,
    pub pid: u32,
    /// Steps this rank finished.
    pub step: u64,
    /// Clips per second through this rank.
    pub throughput: f64,
    /// RFC 3339; this rank's heartbeat.
    pub updated: Option<String>,
}

impl Default for RunStatus {
    fn default() -> Self {
        Self {
            format: super::FORMAT,
            state: RunState::Queued,
            pid: None,
            host: String::new(),
            started: None,
            updated: None,
            step: 0,
            epoch: 0,
            total_steps: 0,
            total_epochs: 0,
            throughput: 0.0,
            eta_seconds: None,
            last_error: None,
            activity: None,
            world_size: 1,
            ranks: Vec::new(),
        }
    }
}

impl RunStatus {
    pub fn read(path: &Path) -> Result<Self, SessionError> {
        let text = std::fs::read_to_string(path).map_err(SessionError::io(path))?;
        let status: RunStatus =
            serde_json::from_str(&text).map_err(|e| SessionError::parse(path, e))?;
        check_format(path, status.format)?;
        Ok(status)
    }

    /// Writes to a temporary name and renames, so readers never see half a file.
    pub fn write_atomic(&self, path: &Path) -> Result<(), SessionError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| SessionError::parse(path, e))?;
        super::write_atomic(path, text.as_bytes())
    }

    /// Sets `updated` to now (and `started` if unset).
    pub fn touch(&mut self) {
        let now = super::now_rfc3339();
        if self.started.is_none() {
            self.started = Some(now.clone());
        }
        self.updated = Some(now);
    }

    /// Seconds since the last heartbeat, if `updated` parses.
    pub fn heartbeat_age(&self, now_unix: f64) -> Option<f64> {
        self.updated
            .as_deref()
            .and_then(super::parse_rfc3339)
            .map(|t| (now_unix - t).max(0.0))
    }

    /// True for a `running` run whose worker is gone: its heartbeat is older than
    /// [`STALE_AFTER_SECONDS`], or its process (on this host) no longer exists — a worker
    /// killed with SIGKILL (an OOM kill, SLURM cancelling the job step) cannot say so itself.
    pub fn is_stale(&self, now_unix: f64) -> bool {
        self.state == RunState::Running
            && (self
                .heartbeat_age(now_unix)
                .is_none_or(|a| a > STALE_AFTER_SECONDS)
                || self.worker_is_dead_here())
    }

    /// The recorded worker ran on this host and its process is gone.
    fn worker_is_dead_here(&self) -> bool {
        let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) else {
            return false;
        };
        if pid <= 0 || self.host != super::host::hostname() {
            return false;
        }
        // SAFETY: kill(2) with signal 0 only checks that the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }

    /// Fraction done in [0, 1] from steps (or epochs when steps are unknown).
    pub fn progress(&self) -> Option<f64> {
        if self.total_steps > 0 {
            Some((self.step as f64 / self.total_steps as f64).clamp(0.0, 1.0))
        } else if self.total_epochs > 0 {
            Some((self.epoch as f64 / self.total_epochs as f64).clamp(0.0, 1.0))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_status_whose_worker_died_on_this_host_is_stale_at_once() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let mut s = RunStatus {
            state: RunState::Running,
            pid: Some(dead),
            host: crate::session::host::hostname(),
            ..RunStatus::default()
        };
        s.touch();
        let now = crate::session::now_unix();
        assert!(s.is_stale(now), "fresh heartbeat, dead worker");
        s.pid = Some(std::process::id());
        assert!(!s.is_stale(now), "a live worker");
        s.pid = Some(dead);
        s.host = "some-other-host".into();
        assert!(
            !s.is_stale(now),
            "another host's worker is judged by its heartbeat"
        );
    }

    #[test]
    fn status_round_trips_and_reads_the_contract_example() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.json");
        let mut s = RunStatus {
            state: RunState::Running,
            pid: Some(42),
            step: 7,
            total_steps: 10,
            ..Default::default()
        };
        s.touch();
        s.write_atomic(&path).unwrap();
        assert_eq!(RunStatus::read(&path).unwrap(), s);
        assert!(!s.is_stale(crate::session::now_unix()));
        let example = r#"{"format":1,"state":"failed","pid":123,"host":"h","started":"2024-01-01T00:00:00Z","updated":"2024-01-01T00:00:10Z","step":0,"epoch":0,"total_steps":0,"total_epochs":0,"throughput":0.0,"eta_seconds":null,"last_error":"boom"}"#;
        std::fs::write(&path, example).unwrap();
        let s = RunStatus::read(&path).unwrap();
        assert_eq!(s.state, RunState::Failed);
        assert_eq!(
            s.heartbeat_age(crate::session::parse_rfc3339("2024-01-01T00:01:10Z").unwrap()),
            Some(60.0)
        );
    }
}
