//! The real binary in tmux: commands on a private server socket, and the server killed when
//! a test ends (even by a panic).
#![allow(dead_code)]

use std::process::Command;

/// `tmux -L socket ARGS…`, its standard output.
pub fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills the tmux server on `socket` when dropped.
pub struct KillServer(pub String);

impl Drop for KillServer {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .output();
    }
}

/// True (after saying so) when tmux is not installed and the test cannot run.
pub fn tmux_missing(what: &str) -> bool {
    let missing = Command::new("tmux").arg("-V").output().is_err();
    if missing {
        eprintln!("SKIPPED: tmux is not installed (apt-get install tmux); {what} did not run");
    }
    missing
}
