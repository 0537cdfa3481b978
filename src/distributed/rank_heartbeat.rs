//! Each rank's heartbeat, `ranks/rank-NNN.json` in the run folder (which every rank reads its
//! checkpoints from, so it is shared): host, pid, the steps it finished, its throughput.
//! Rank 0 copies them into `status.json` for the workbench, and when the job ends badly
//! (a collective timed out, or mpirun is tearing the job down) they name the rank that was
//! lost: gone from this host, silent, or behind the others.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::session::periodic::Periodic;
use crate::session::{RankStatus, RunStatus};

pub fn rank_file(run_root: &Path, rank: usize) -> PathBuf {
    run_root.join("ranks").join(format!("rank-{rank:03}.json"))
}

/// Every rank's last heartbeat that can be read, by rank.
pub fn read_ranks(run_root: &Path, world: usize) -> Vec<RankStatus> {
    (0..world)
        .filter_map(|r| {
            let text = std::fs::read_to_string(rank_file(run_root, r)).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect()
}

/// Writes this rank's heartbeat every `period` from the rank's `status` (step, throughput)
/// until dropped, and once more then; on rank 0 also gathers all ranks' into `status.ranks`.
pub struct RankHeartbeat {
    /// Writes until dropped.
    _thread: Periodic,
}

impl RankHeartbeat {
    pub fn start(
        run_root: &Path,
        rank: usize,
        world: usize,
        status: Arc<Mutex<RunStatus>>,
        period: Duration,
    ) -> Self {
        let root = run_root.to_path_buf();
        let host = crate::session::host::hostname();
        let path = rank_file(&root, rank);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).ok();
        }
        // The last beat (after the run) says where each rank stopped.
        let thread = Periodic::start(period, move |_last| {
            let beat = {
                let s = status.lock().unwrap_or_else(|p| p.into_inner());
                RankStatus {
                    rank: rank as u64,
                    host: host.clone(),
                    pid: std::process::id(),
                    step: s.step,
                    throughput: s.throughput / world as f64,
                    updated: Some(crate::session::now_rfc3339()),
                }
            };
            if let Ok(text) = serde_json::to_string_pretty(&beat) {
                // A missed beat only makes this rank look late; the run goes on.
                crate::session::write_atomic(&path, text.as_bytes()).ok();
            }
            if rank == 0 {
                let ranks = read_ranks(&root, world);
                status.lock().unwrap_or_else(|p| p.into_inner()).ranks = ranks;
            }
            true
        });
        Self { _thread: thread }
    }
}

/// Whether process `pid` still exists on this host.
fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The ranks that look lost, in words: gone from this host (`host`), or silent for
/// `silent_after`, or behind the furthest rank. None when all look well.
pub fn describe_lost(
    ranks: &[RankStatus],
    world: usize,
    host: &str,
    now_unix: f64,
    silent_after: f64,
) -> Option<String> {
    let furthest = ranks.iter().map(|r| r.step).max().unwrap_or(0);
    let mut lost = Vec::new();
    for rank in 0..world as u64 {
        let Some(r) = ranks.iter().find(|r| r.rank == rank) else {
            lost.push(format!("rank {rank} (no heartbeat)"));
            continue;
        };
        let age = r
            .updated
            .as_deref()
            .and_then(crate::session::parse_rfc3339)
            .map(|t| (now_unix - t).max(0.0));
        let who = format!("rank {rank} (host {}, pid {})", r.host, r.pid);
        if r.host == host && !alive(r.pid) {
            lost.push(format!("{who} exited (last heartbeat at step {})", r.step));
        } else if age.is_some_and(|a| a > silent_after) {
            lost.push(format!(
                "{who} silent for {:.0} s (last heartbeat at step {})",
                age.unwrap_or_default(),
                r.step
            ));
        } else if r.step < furthest {
            lost.push(format!(
                "{who} behind at step {} (others at {furthest})",
                r.step
            ));
        }
    }
    (!lost.is_empty()).then(|| lost.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(rank: u64, pid: u32, step: u64, updated: f64) -> RankStatus {
        RankStatus {
            rank,
            host: "h".into(),
            pid,
            step,
            throughput: 1.0,
            updated: Some(
                time::OffsetDateTime::from_unix_timestamp(updated as i64)
                    .unwrap()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap(),
            ),
        }
    }

    #[test]
    fn a_gone_silent_or_lagging_rank_is_named() {
        let me = std::process::id();
        let now = crate::session::now_unix();
        let well = [rank(0, me, 5, now), rank(1, me, 5, now)];
        assert_eq!(describe_lost(&well, 2, "h", now, 30.0), None);
        // pid 0x7fff_fff0 does not exist.
        let gone = [rank(0, me, 5, now), rank(1, 0x7fff_fff0, 4, now)];
        let text = describe_lost(&gone, 2, "h", now, 30.0).unwrap();
        assert!(
            text.contains("rank 1 (host h, pid 2147483632) exited (last heartbeat at step 4)"),
            "{text}"
        );
        let silent = [rank(0, me, 5, now), rank(1, me, 5, now - 100.0)];
        let text = describe_lost(&silent, 2, "h", now, 30.0).unwrap();
        assert!(
            text.contains("rank 1") && text.contains("silent for 10"),
            "{text}"
        );
        let behind = [rank(0, me, 5, now), rank(1, me, 3, now)];
        let text = describe_lost(&behind, 2, "h", now, 30.0).unwrap();
        assert!(text.contains("behind at step 3 (others at 5)"), "{text}");
        let text = describe_lost(&well[..1], 2, "h", now, 30.0).unwrap();
        assert_eq!(text, "rank 1 (no heartbeat)");
    }
}
