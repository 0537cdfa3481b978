//! Helpers of the hostile-input and fault tests (`hostile_faults.rs`, `hostile_input.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common_cli::svfap;
use crate::common_runs::demo_data;
use svfap_tui::session::RunDir;

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn refused(out: &Output, words: &[&str]) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a refusal (rc 1), got {:?}\nstdout:\n{}\nstderr:\n{err}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    for w in words {
        assert!(err.contains(w), "`{w}` not in: {err}");
    }
}

/// `launch CONFIG --session SESSION --set …` in the foreground.
pub fn launch(config: &Path, session: &Path, sets: &[&str]) -> Output {
    launch_with(config, session, sets, false)
}

/// The same with `--detach`.
pub fn launch_detached(config: &Path, session: &Path, sets: &[&str]) -> Output {
    launch_with(config, session, sets, true)
}

fn launch_with(config: &Path, session: &Path, sets: &[&str], detach: bool) -> Output {
    let mut args = vec![
        "launch".to_string(),
        config.display().to_string(),
        "--session".into(),
        session.display().to_string(),
    ];
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    if detach {
        args.push("--detach".into());
    }
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    svfap(&args)
}

pub fn run_count(session: &Path) -> usize {
    std::fs::read_dir(session.join("runs")).map_or(0, |d| d.count())
}

/// Every line of a run's metrics parses, and no (step, split, name) appears twice.
pub fn metrics_are_whole_and_unique(run: &RunDir) {
    let text = std::fs::read_to_string(run.metrics_jsonl()).unwrap();
    assert!(text.ends_with('\n'), "torn last line");
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let r: svfap_tui::session::MetricRecord = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("metrics.jsonl:{}: {e}: {line}", i + 1));
        assert!(
            seen.insert((r.step, r.split.clone(), r.name.clone())),
            "metrics.jsonl:{}: ({}, {}, {}) logged twice",
            i + 1,
            r.step,
            r.split,
            r.name
        );
    }
}

/// Files that no reader will ever use: temporaries, and checkpoint parts without their state.
pub fn orphans(run: &RunDir) -> Vec<String> {
    let mut out = vec![];
    for dir in [run.root.clone(), run.checkpoints(), run.eval()] {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.split('.').next().unwrap_or("");
            let partial =
                name.starts_with("step-") && !dir.join(format!("{stem}.state.json")).is_file();
            if name.contains(".tmp") || partial {
                out.push(format!("{}/{name}", dir.display()));
            }
        }
    }
    out
}

/// A tmpfs of `size` at `dir`, unmounted on drop.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
    /// Remounts it read-only (`false`) or writable again (`true`).
    pub fn writable(&self, writable: bool) {
        let mode = if writable { "remount,rw" } else { "remount,ro" };
        let ok = Command::new("mount")
            .args(["-o", mode])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    pub fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        Command::new("umount").arg("-l").arg(&self.0).status().ok();
    }
}

/// A copy of the demo data where the listed manifest lines point to files of garbage.
pub fn data_with_garbage(base: &Path, manifest: &str, garbage: &[usize]) -> PathBuf {
    let data = demo_data();
    let root = base.join("data");
    std::fs::create_dir_all(&root).unwrap();
    for name in ["train.csv", "test.csv", "pretrain.csv"] {
        let text = std::fs::read_to_string(data.join(name)).unwrap();
        let mut out = String::new();
        for (i, line) in text.lines().enumerate() {
            let mut parts = line.splitn(2, ' ');
            let path = parts.next().unwrap();
            let rest = parts.next().map(|r| format!(" {r}")).unwrap_or_default();
            let abs = data.join(path);
            if name == manifest && garbage.contains(&i) {
                let bad = root.join(format!("garbage-{i}.mp4"));
                std::fs::write(&bad, b"this is not a video").unwrap();
                out += &format!("{}{rest}\n", bad.display());
            } else {
                out += &format!("{}{rest}\n", abs.display());
            }
        }
        std::fs::write(root.join(name), out).unwrap();
    }
    root
}
