//! End to end: the real binary in tmux against a fixture session. Switches every view,
//! opens the help, quits, and checks the terminal is restored (alternate screen left).
//! Skipped, saying so, when tmux is not installed.

mod common_tmux;

use common_tmux::KillServer;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(socket: &str, pane: &str, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux(&["-L", socket, "capture-pane", "-p", "-t", pane]);
        if screen.contains(needle) {
            return screen;
        }
        if start.elapsed() > Duration::from_secs(10) {
            panic!("timed out waiting for {needle:?}; screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_binary_switches_every_view_opens_help_and_quits_cleanly_in_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!(
            "SKIPPED: tmux is not installed (apt-get install tmux); the end-to-end test did not run"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("fixture");
    svfap_tui::session::fixtures::full(&root).unwrap();
    let socket = format!("svfap-e2e-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_svfap-tui");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cmd = format!(
        "HOME={} {bin} --session {}; echo EXIT=$?; sleep 30",
        home.display(),
        root.display()
    );
    tmux(&[
        "-L",
        &socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "36",
        "-s",
        "e2e",
        &cmd,
    ]);
    let pane = "e2e";
    let guard = KillServer(socket.clone());
    let started = Instant::now();
    wait_for(&socket, pane, "20251231-230000-demo");
    let first_frame = started.elapsed();
    // The run list shows before every run's status is read ("reading the session…"); the
    // fixture's heartbeat is old for the real clock, so its running run then shows as lost.
    let screen = wait_for(&socket, pane, "lost");
    assert!(screen.contains("1 Runs"), "{screen}");
    assert_eq!(
        tmux(&[
            "-L",
            &socket,
            "display",
            "-p",
            "-t",
            pane,
            "#{alternate_on}"
        ])
        .trim(),
        "1"
    );
    // Select the finished pre-training run (4th row), which has reconstructions and attention.
    for _ in 0..3 {
        tmux(&["-L", &socket, "send-keys", "-t", pane, "j"]);
    }
    wait_for(&socket, pane, "╭ pretrain-20251231-200000-done");
    for (key, needle) in [
        ("2", "log.txt"),
        ("3", "samples"),
        ("4", "maps"),
        ("5", "runs × datasets"),
        ("1", "run (time-name)"),
    ] {
        tmux(&["-L", &socket, "send-keys", "-t", pane, key]);
        wait_for(&socket, pane, needle);
    }
    tmux(&["-L", &socket, "send-keys", "-t", pane, "?"]);
    let help = wait_for(&socket, pane, "Help (Esc closes)");
    for v in ["Runs", "Monitor", "Reconstructions", "Attention", "Compare"] {
        assert!(help.contains(v), "help lists {v}:\n{help}");
    }
    tmux(&["-L", &socket, "send-keys", "-t", pane, "Escape"]);
    tmux(&["-L", &socket, "send-keys", "-t", pane, "q"]);
    let after = wait_for(&socket, pane, "EXIT=");
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(
        !after.contains("1 Runs"),
        "the workbench's screen is gone:\n{after}"
    );
    assert_eq!(
        tmux(&[
            "-L",
            &socket,
            "display",
            "-p",
            "-t",
            pane,
            "#{alternate_on}"
        ])
        .trim(),
        "0"
    );
    let saved = std::fs::read_to_string(root.join("session.toml")).unwrap();
    assert!(saved.contains("view = \"runs\""), "{saved}");
    eprintln!("first frame with runs after {first_frame:?} (includes tmux start)");
    drop(guard);
}
