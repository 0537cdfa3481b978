//! Runs of the real binary on tiny generated demo videos, shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common_cli::{ok, svfap};
use svfap_tui::session::RunDir;

/// Tiny demo videos (32 px, 16 frames), made once per test process.
pub fn demo_data() -> PathBuf {
    static DATA: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("svfap-e2e-data-{}", std::process::id()));
        ok(svfap(&[
            "demo-data",
            dir.to_str().unwrap(),
            "--train",
            "14",
            "--test",
            "7",
            "--unlabeled",
            "10",
            "--size",
            "32",
            "--frames",
            "16",
        ]));
        dir
    })
    .clone()
}

/// A `test`-preset config of `kind` on [`demo_data`] (or `root`), with `extra` lines in
/// `[model]`.
pub fn write_config_in(dir: &Path, kind: &str, extra: &str, root: &Path) -> PathBuf {
    let (train, test) = if kind == "pretrain" {
        ("pretrain.csv", "")
    } else {
        ("train.csv", "test.csv")
    };
    let text = format!(
        r#"format = 1
kind = "{kind}"
name = "e2e"
seed = 3
[model]
preset = "test"
mask_ratio = 0.75
{extra}
[data]
dataset = "demo"
root = "{root}"
train = "{train}"
test = "{test}"
stride = 2
test_clips = 2
workers = 2
[optim]
batch_size = 4
epochs = 2
warmup_epochs = 1
base_lr = 0.05
betas = [0.9, 0.95]
[artifacts]
checkpoint_every = 2
keep_last = 2
"#,
        root = root.display()
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{kind}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

pub fn write_config(dir: &Path, kind: &str, extra: &str) -> PathBuf {
    write_config_in(dir, kind, extra, &demo_data())
}

/// The one run of a session.
pub fn only_run(session: &Path) -> RunDir {
    let runs: Vec<_> = std::fs::read_dir(session.join("runs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    RunDir::new(&runs[0])
}

pub fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every tensor of the run's latest checkpoint (the file's header order may differ).
pub fn final_checkpoint(run: &RunDir) -> std::collections::BTreeMap<String, Vec<f32>> {
    let stem = std::fs::read_to_string(run.latest_pointer()).unwrap();
    let path = run
        .checkpoints()
        .join(format!("{}.safetensors", stem.trim()));
    let ckpt = svfap_tui::model::checkpoint::read_checkpoint(&path).unwrap();
    ckpt.tensors
        .iter()
        .map(|(k, t)| (k.clone(), t.to_data().unwrap().to_vec::<f32>().unwrap()))
        .collect()
}

/// A fresh folder for one test's sessions.
pub fn session(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("svfap-e2e-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}
