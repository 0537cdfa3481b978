//! Images never corrupt the screen: the real binary with sixel graphics in a pseudo-terminal
//! (a tmux pane whose raw output is recorded with `pipe-pane`), its byte stream replayed in
//! a terminal emulator's screen model (the vt100 crate, which keeps cells and ignores the
//! graphics). A picture's cells are ratatui "skip" cells: unless the app blanks them first,
//! the text of the view before (chart axes, log lines, a closed help) stays there in the
//! terminal, under and around the picture. After each change, no text of an earlier screen
//! may be left. Skipped, saying so, when tmux is not installed.

mod common_tmux;

use common_tmux::{KillServer, tmux, tmux_missing};
use std::time::{Duration, Instant};

const COLS: u16 = 120;
const ROWS: u16 = 36;

/// The screen the recorded bytes leave in an emulator.
fn replay(raw: &std::path::Path) -> String {
    let bytes = std::fs::read(raw).unwrap_or_default();
    let mut parser = vt100::Parser::new(ROWS, COLS, 0);
    parser.process(&bytes);
    parser.screen().contents()
}

/// Waits until the replayed screen contains `needle` and then stays unchanged for a moment
/// (the frame with the picture follows the one that announced it).
fn settled(raw: &std::path::Path, needle: &str) -> String {
    let start = Instant::now();
    let mut last = String::new();
    let mut stable_since = Instant::now();
    loop {
        let screen = replay(raw);
        if screen != last {
            last = screen;
            stable_since = Instant::now();
        } else if last.contains(needle) && stable_since.elapsed() > Duration::from_millis(800) {
            return last;
        }
        if start.elapsed() > Duration::from_secs(20) {
            panic!("timed out waiting for {needle:?}; screen:\n{last}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where the sixel pictures (`ESC P … q`) in `bytes` are drawn: the last cursor position
/// (`ESC [ row ; col H`) before each.
fn sixel_places(bytes: &[u8]) -> std::collections::BTreeSet<(u16, u16)> {
    let text = String::from_utf8_lossy(bytes);
    let mut places = std::collections::BTreeSet::new();
    let mut at = (0, 0);
    let mut rest = &text[..];
    while let Some(i) = rest.find('\x1b') {
        rest = &rest[i + 1..];
        let params: String = rest
            .chars()
            .skip(1)
            .take_while(|c| c.is_ascii_digit() || *c == ';')
            .collect();
        let end = rest[1 + params.len()..].chars().next();
        match (rest.chars().next(), end) {
            (Some('['), Some('H')) => {
                let mut rc = params.split(';').map(|v| v.parse().unwrap_or(1));
                at = (rc.next().unwrap_or(1), rc.next().unwrap_or(1));
            }
            (Some('P'), Some('q')) => {
                places.insert(at);
            }
            _ => {}
        }
    }
    places
}

fn assert_gone(screen: &str, earlier: &[&str], what: &str) {
    for text in earlier {
        assert!(
            !screen.contains(text),
            "{what}: {text:?} of an earlier screen is still in the terminal:\n{screen}"
        );
    }
}

#[test]
fn sixel_pictures_leave_no_text_of_earlier_screens_behind() {
    if tmux_missing("the PTY test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("fixture");
    svfap_tui::session::fixtures::full(&root).unwrap();
    let raw = dir.path().join("raw.bin");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let socket = format!("svfap-pty-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_svfap-tui");
    // The app is told it is not in tmux (which would make it wrap graphics for tmux) and
    // starts after the recording does.
    let cmd = format!(
        "sleep 1; env -u TMUX TERM=xterm-256color HOME={} {bin} --session {} --image-protocol sixel; sleep 30",
        home.display(),
        root.display()
    );
    let (cols, rows) = (COLS.to_string(), ROWS.to_string());
    tmux(
        &socket,
        &[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &cols,
            "-y",
            &rows,
            "-s",
            "pty",
            &cmd,
        ],
    );
    let _guard = KillServer(socket.clone());
    tmux(
        &socket,
        &[
            "pipe-pane",
            "-t",
            "pty",
            &format!("cat >> {}", raw.display()),
        ],
    );
    let keys = |k: &[&str]| {
        let mut args = vec!["send-keys", "-t", "pty"];
        args.extend_from_slice(k);
        tmux(&socket, &args);
    };
    let screen = settled(&raw, "20251231-200000-done");
    // Keys are read once the terminal query (which reads stdin) is over: wait for the app
    // to answer one.
    let start = Instant::now();
    loop {
        keys(&["?"]);
        std::thread::sleep(Duration::from_millis(700));
        if replay(&raw).contains("Everywhere") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no key answered:\n{screen}"
        );
    }
    keys(&["Escape"]);
    // Select the finished pre-training run (it has reconstructions at steps 200 and 400).
    keys(&["/"]);
    keys(&["-l", "done"]);
    keys(&["Enter"]);
    keys(&["2"]);
    let monitor = settled(&raw, "log.txt");
    assert!(
        monitor.contains("checkpoints"),
        "{monitor}\n(before: {screen})"
    );
    // Text only the Monitor shows, all over the screen.
    let monitor_only = ["log.txt", "checkpoints", "epoch 10 loss 0.21", "clips/s"];
    keys(&["3"]);
    let recon = settled(&raw, "step 400");
    assert_gone(&recon, &monitor_only, "Monitor → Reconstructions");
    // One step back: the picture changes in place.
    keys(&["Left"]);
    let back = settled(&raw, "step 200");
    assert_gone(&back, &monitor_only, "step 400 → 200");
    // The Attention view draws its maps over the frame through the same protocol; its
    // pictures fill their panels: the heat map, and beside it the bottleneck groups and the
    // cross-attention (a second picture on the same rows once went unwritten).
    let before = std::fs::metadata(&raw).map_or(0, |m| m.len() as usize);
    keys(&["4"]);
    let attn = settled(&raw, "token");
    let written = std::fs::read(&raw).unwrap_or_default();
    let places = sixel_places(&written[before..]);
    assert_eq!(
        places.len(),
        3,
        "the Attention view's three pictures, drawn at (row, column) {places:?}\n{attn}"
    );
    assert_gone(
        &attn,
        &["◀", "mask 90%", "original"],
        "Reconstructions → Attention",
    );
    // The help over the pictures, then closed: what it covered must not stay.
    keys(&["?"]);
    let help = settled(&raw, "Everywhere");
    assert!(help.contains("(here)"), "{help}");
    keys(&["Escape"]);
    let closed = settled(&raw, "token");
    assert_gone(
        &closed,
        &["Everywhere", "(here)", "Attention keys", "Keys: assets"],
        "help closed over the pictures",
    );
    keys(&["q"]);
}
