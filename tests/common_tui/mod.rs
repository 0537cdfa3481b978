//! Helpers shared by the workbench tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ratatui::buffer::Buffer;
use ratatui::style::Color;
use svfap_tui::session::fixtures;
use svfap_tui::tui::{App, View};
use svfap_tui::tui::{Headless, Options};

pub const W: u16 = 120;
pub const H: u16 = 36;

pub const RUNNING: &str = "pretrain-20251231-230000-demo";
pub const DONE_PRETRAIN: &str = "pretrain-20251231-200000-done";
pub const FINISHED: &str = "finetune-20251231-220000-lr1e-3";
pub const OTHER_FINISHED: &str = "finetune-20251231-220000-lr5e-4";
pub const FAILED: &str = "finetune-20251231-210000-broken";

/// Options that read nothing from the user's home and launch `bin` (a stand-in).
pub fn options(session: &Path, assets: &Path) -> Options {
    let mut o = Options::new(session);
    o.keymap_file = None;
    o.theme_dirs = vec![];
    o.config_dirs = vec![assets.to_path_buf()];
    o.launcher = svfap_tui::session::Launcher::new("/nonexistent/svfap-tui");
    o
}

pub fn headless(session: &Path, assets: &Path) -> Headless {
    App::headless(options(session, assets), W, H, fixtures::NOW).expect("headless app")
}

pub fn full_session(dir: &Path) -> PathBuf {
    let root = dir.join("fixture");
    fixtures::full(&root).expect("fixture session");
    root
}

pub fn empty_session(dir: &Path) -> PathBuf {
    let root = dir.join("empty");
    fixtures::empty(&root).expect("empty session");
    root
}

pub fn select(h: &mut Headless, id: &str) {
    h.app.state.gui.selected = Some(id.to_string());
    h.settle();
}

pub fn show(h: &mut Headless, view: View) {
    h.act(svfap_tui::tui::Action::for_view(view));
}

/// The buffer's text, one line per row, trailing spaces trimmed (the workbench draws no
/// wide glyphs, so every cell is one column).
pub fn text(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    let mut out = String::new();
    for row in buf.content.chunks(w.max(1)) {
        let line: String = row.iter().map(|c| c.symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// (fg, bg) of the first cell of the first occurrence of `needle` in the buffer.
pub fn colors_of(buf: &Buffer, needle: &str) -> Option<(Color, Color)> {
    let w = buf.area.width as usize;
    for (y, row) in buf.content.chunks(w).enumerate() {
        let line: String = row
            .iter()
            .map(|c| c.symbol().chars().next().unwrap_or(' '))
            .collect();
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            let c = &buf.content[y * w + x];
            return Some((c.fg, c.bg));
        }
    }
    None
}

/// A stand-in for the `svfap-tui` binary: a shell script that appends its arguments to
/// `calls.txt` and exits with `code`, printing `output`.
pub fn stand_in(dir: &Path, code: i32, output: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join(format!("stand-in-{code}.sh"));
    let calls = dir.join("calls.txt");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\necho '{output}' >&2\nexit {code}\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

pub fn calls(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("calls.txt")).unwrap_or_default()
}

/// An assets folder with example run configs (and the demo configs).
pub fn assets(dir: &Path) -> PathBuf {
    let a = dir.join("assets");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("demo-pretrain.toml"),
        fixtures::pretrain_config("demo-pretrain"),
    )
    .unwrap();
    std::fs::write(
        a.join("demo-finetune.toml"),
        fixtures::finetune_config("demo-finetune", "synthetic", 0.001),
    )
    .unwrap();
    std::fs::write(a.join("keymap.toml"), "[global]\nq = \"quit\"\n").unwrap();
    a
}

/// Appends `line {i:03}` for `i` in `range` to the run's `log.txt`, with an error at 42.
pub fn append_log(h: &Headless, run: &str, range: std::ops::Range<usize>) {
    use std::io::Write;
    let path = h
        .state()
        .data
        .run(run)
        .unwrap()
        .summary
        .root
        .join("log.txt");
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for i in range {
        if i == 42 {
            writeln!(f, "error: line {i:03} lost its batch").unwrap();
        } else {
            writeln!(f, "line {i:03}").unwrap();
        }
    }
}

/// Text of the rows of the Monitor view's log pane (between its borders).
pub fn log_pane(buf: &Buffer) -> Vec<String> {
    let t = text(buf);
    let rows: Vec<&str> = t.lines().collect();
    let Some(top) = rows.iter().position(|r| r.starts_with("╭ log.txt")) else {
        return vec![];
    };
    rows[top + 1..]
        .iter()
        .take_while(|r| !r.starts_with('╰'))
        .map(|r| {
            let inner: String = r.chars().skip(1).take_while(|c| *c != '│').collect();
            inner.trim_end().to_string()
        })
        .collect()
}
