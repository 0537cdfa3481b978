//! The run lock: one worker per run folder. A worker holds an exclusive OS advisory lock
//! (`flock`) on `<run>/run.lock` for its whole life; the kernel releases it when the process
//! ends however it ends (SIGKILL included), so a stale pid in `status.json` can never keep a
//! run locked, and a live lock proves the worker is alive. The file also names the holder
//! (pid, host, start time) for the refusal message and the workbench.
//!
//! `flock` locks follow the open file description: the descriptor is opened close-on-exec,
//! so processes the worker starts do not inherit it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SessionError;
use super::layout::RunDir;

/// Who holds a run's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    pub host: String,
    /// RFC 3339.
    pub since: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on host {} since {}",
            self.pid, self.host, self.since
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}: already has a worker ({holder}); stop it first (`s` in the workbench, or kill -TERM {})", run.display(), holder.pid)]
    Held { run: PathBuf, holder: LockHolder },
    #[error(transparent)]
    Io(#[from] SessionError),
}

/// The exclusive lock of one run folder, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

fn lock_path(run: &RunDir) -> PathBuf {
    run.root.join("run.lock")
}

fn open(path: &Path) -> Result<File, SessionError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(SessionError::io(path))
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

impl RunLock {
    /// Takes the run's lock for this process, or says who has it.
    pub fn acquire(run: &RunDir) -> Result<Self, LockError> {
        let path = lock_path(run);
        let mut file = open(&path).map_err(|e| match e {
            SessionError::Io { error, .. }
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
                ) =>
            {
                SessionError::Io {
                    path: run.root.clone(),
                    error: std::io::Error::new(
                        error.kind(),
                        format!("the run folder is not writable ({error}); a run needs to write its files there"),
                    ),
                }
            }
            other => other,
        })?;
        // A workbench probing with `holder` holds a shared lock for a few microseconds: try
        // again briefly before calling the run taken.
        let mut attempt = 0;
        let taken = loop {
            match file.try_lock() {
                Err(TryLockError::WouldBlock) if attempt < 10 => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other,
            }
        };
        match taken {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file).unwrap_or(LockHolder {
                    pid: 0,
                    host: "?".into(),
                    since: "?".into(),
                });
                return Err(LockError::Held {
                    run: run.root.clone(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(SessionError::io(&path)(e).into()),
        }
        let me = LockHolder {
            pid: std::process::id(),
            host: super::host::hostname(),
            since: super::now_rfc3339(),
        };
        let text = serde_json::to_string(&me).expect("serialisable");
        let io = SessionError::io(&path);
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// Who holds the run's lock now (`None`: no live worker). Probes with a shared lock that is
/// released at once, so it never blocks a worker from starting for longer than a syscall.
pub fn holder(run: &RunDir) -> Option<LockHolder> {
    let path = lock_path(run);
    let mut file = File::open(&path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => read_holder(&mut file).or(Some(LockHolder {
            pid: 0,
            host: "?".into(),
            since: "?".into(),
        })),
        Err(TryLockError::Error(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        assert_eq!(holder(&run), None);
        let lock = RunLock::acquire(&run).unwrap();
        let h = holder(&run).expect("held");
        assert_eq!(h.pid, std::process::id());
        // flock locks belong to the open file description: a second open in this same
        // process conflicts as another process's would.
        let err = RunLock::acquire(&run).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(lock);
        assert_eq!(holder(&run), None);
        RunLock::acquire(&run).unwrap();
    }
}
