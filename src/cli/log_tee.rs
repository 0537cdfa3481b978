//! A foreground `launch` writes the run's `log.txt` too, as a detached one does: this
//! process's stdout and stderr are copied into the log while still reaching the terminal
//! (each stream to where it went before). Done at the file-descriptor level (a pipe per
//! stream and a copying thread), so it also catches what libraries print (FFmpeg, panics).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

/// Restores stdout and stderr (and finishes copying) when dropped.
pub struct LogTee {
    saved: Vec<(RawFd, RawFd)>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

fn check(rc: libc::c_int, what: &str) -> Result<libc::c_int> {
    if rc < 0 {
        Err(std::io::Error::last_os_error()).context(what.to_string())
    } else {
        Ok(rc)
    }
}

impl LogTee {
    /// Copies fds 1 and 2 into `log` (appended) from now on.
    pub fn start(log: &Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("{}: cannot open", log.display()))?;
        let file = Arc::new(Mutex::new(file));
        std::io::stdout().flush().ok();
        std::io::stderr().flush().ok();
        let mut tee = Self {
            saved: vec![],
            threads: vec![],
        };
        for fd in [1, 2] {
            let mut ends = [0; 2];
            // SAFETY: `ends` has room for the two descriptors pipe(2) writes.
            check(
                unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) },
                "pipe",
            )?;
            // SAFETY: dup/dup2/close on descriptors this process owns; no memory is shared.
            let saved = check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) }, "dup")?;
            check(unsafe { libc::dup2(ends[1], fd) }, "dup2")?;
            unsafe { libc::close(ends[1]) };
            tee.saved.push((fd, saved));
            // SAFETY: the read end and the copy of the original descriptor are ours alone.
            let mut reader = unsafe { File::from_raw_fd(ends[0]) };
            let terminal = unsafe { libc::fcntl(saved, libc::F_DUPFD_CLOEXEC, 3) };
            let mut terminal = unsafe { File::from_raw_fd(terminal) };
            let file = file.clone();
            tee.threads.push(std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    terminal.write_all(&buf[..n]).ok();
                    if let Ok(mut f) = file.lock() {
                        f.write_all(&buf[..n]).ok();
                    }
                }
            }));
        }
        Ok(tee)
    }
}

impl Drop for LogTee {
    fn drop(&mut self) {
        std::io::stdout().flush().ok();
        std::io::stderr().flush().ok();
        for (fd, saved) in self.saved.drain(..) {
            // SAFETY: puts the original descriptor back; closing the pipe's last write end
            // lets the copying thread see the end of the stream.
            unsafe {
                libc::dup2(saved, fd);
                libc::close(saved);
            }
        }
        for t in self.threads.drain(..) {
            t.join().ok();
        }
    }
}
