//! Hostile input and faults: what an adversarial user (or a bad day) does to a session, and
//! what must happen instead of silent damage. Each test failed on the code before it.
//!
//! Classes, so the next reader extends them rather than the instances:
//! 1. Concurrency on one run folder: two workers, a stop aimed at a process that is not
//!    the run's worker (pid reuse).
//! 2. I/O faults: disk full at every write site, torn files, read-only folders.
//! 3. Path grammar and escapes: manifest paths with spaces/tabs/BOM, names that become path
//!    components.
//! 4. Values out of range: every config number, every CLI size and count.
//! 5. Empty or unusable data: no readable clips, evaluations of nothing, a pre-training
//!    checkpoint of a run that did not finish.
//! 6. Crashes: a panic in the worker is recorded as `failed` with its message.

mod common_cli;
mod common_runs;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common_cli::{ok, svfap};
use common_runs::{demo_data, only_run, session, wait_for, write_config, write_config_in};
use svfap_tui::session::{MetricsTail, RunDir, RunState, RunStatus};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn refused(out: &Output, words: &[&str]) {
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

fn launch(config: &Path, session: &Path, sets: &[&str]) -> Output {
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
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    svfap(&args)
}

fn run_count(session: &Path) -> usize {
    std::fs::read_dir(session.join("runs")).map_or(0, |d| d.count())
}

/// Every line of a run's metrics parses, and no (step, split, name) appears twice.
fn metrics_are_whole_and_unique(run: &RunDir) {
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
fn orphans(run: &RunDir) -> Vec<String> {
    let mut out = vec![];
    for dir in [run.root.clone(), run.checkpoints(), run.eval()] {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.split('.').next().unwrap_or("");
            let partial = name.starts_with("step-")
                && !dir.join(format!("{stem}.state.json")).is_file();
            if name.contains(".tmp") || partial {
                out.push(format!("{}/{name}", dir.display()));
            }
        }
    }
    out
}

// ---- 1. Concurrency on one run folder -------------------------------------------------

#[test]
fn a_second_worker_on_a_running_run_is_refused_naming_the_holder() {
    let base = session("lock");
    let config = write_config(&base, "pretrain", "");
    let s = base.join("s");
    ok(launch_detached(
        &config,
        &s,
        &["optim.epochs=5000", "artifacts.checkpoint_every=20"],
    ));
    let run = only_run(&s);
    wait_for("a checkpoint", Duration::from_secs(120), || {
        RunStatus::read(&run.status_json()).is_ok_and(|s| s.step >= 1)
            && run.latest_pointer().is_file()
    });
    let pid = RunStatus::read(&run.status_json()).unwrap().pid.unwrap();
    let host = svfap_tui::session::launcher::hostname();
    for args in [
        &["resume", run.root.to_str().unwrap()][..],
        &["run", run.root.to_str().unwrap()][..],
        &["resume", run.root.to_str().unwrap(), "--detach"][..],
    ] {
        let out = svfap(args);
        refused(&out, &[&format!("pid {pid}"), &host, "already"]);
    }
    assert_eq!(
        RunStatus::read(&run.status_json()).unwrap().pid,
        Some(pid),
        "the refused worker touched status.json"
    );
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    wait_for("stopped", Duration::from_secs(60), || {
        RunStatus::read(&run.status_json()).is_ok_and(|s| s.state == RunState::Stopped)
    });
    metrics_are_whole_and_unique(&run);
}

fn launch_detached(config: &Path, session: &Path, sets: &[&str]) -> Output {
    let mut args = vec![
        "launch".to_string(),
        config.display().to_string(),
        "--session".into(),
        session.display().to_string(),
        "--detach".into(),
    ];
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    svfap(&args)
}

#[test]
fn stopping_a_run_whose_worker_is_gone_never_signals_the_pids_new_owner() {
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir::new(dir.path().join("runs/pretrain-20240101-000000-x"));
    std::fs::create_dir_all(&run.root).unwrap();
    // The pid now belongs to a stranger; the heartbeat is stale or fresh, no worker is alive.
    let mut stranger = Command::new("sleep").arg("30").spawn().unwrap();
    for updated in ["2024-01-01T00:00:00Z".to_string(), svfap_tui::session::now_rfc3339()] {
        let status = RunStatus {
            state: RunState::Running,
            pid: Some(stranger.id()),
            host: svfap_tui::session::launcher::hostname(),
            updated: Some(updated.clone()),
            ..Default::default()
        };
        status.write_atomic(&run.status_json()).unwrap();
        let result = svfap_tui::session::launcher::stop(&run);
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            stranger.try_wait().unwrap().is_none(),
            "stop({updated}) killed an unrelated process: {result:?}"
        );
        let err = result.expect_err("no worker to stop");
        assert!(err.contains("not running") || err.contains("no worker"), "{err}");
    }
    stranger.kill().ok();
}

// ---- 2. I/O faults ----------------------------------------------------------------------

/// A tmpfs of `size` at `dir`, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
    fn resize(&self, size: &str) {
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

#[test]
fn a_full_disk_fails_the_run_naming_the_file_leaves_no_orphans_and_resume_continues() {
    let base = session("full");
    let config = write_config(&base, "finetune", "");
    let Some(disk) = Tmpfs::mount(&base.join("disk"), "3m") else {
        // Not root, or no mount namespace: the injected faults below cover the write sites.
        eprintln!("tmpfs cannot be mounted here; covered by the injected write faults");
        return;
    };
    let s = disk.0.join("s");
    let out = launch(
        &config,
        &s,
        &["optim.epochs=6", "artifacts.checkpoint_every=1", "artifacts.keep_last=3"],
    );
    assert!(!out.status.success(), "the run cannot fit in 3 MB");
    assert!(out.status.signal().is_none(), "crashed: {out:?}");
    let run = only_run(&s);
    let status = RunStatus::read(&run.status_json()).unwrap();
    assert_eq!(status.state, RunState::Failed, "{status:?}");
    let error = status.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("No space left on device") && error.contains(&s.display().to_string()),
        "last_error must name the file and ENOSPC: {error}"
    );
    assert!(!error.contains(".tmp"), "names a temporary: {error}");
    assert!(orphans(&run).is_empty(), "left behind: {:?}", orphans(&run));

    disk.resize("64m");
    let out = svfap(&["resume", run.root.to_str().unwrap()]);
    ok(out);
    assert_eq!(
        RunStatus::read(&run.status_json()).unwrap().state,
        RunState::Finished
    );
    metrics_are_whole_and_unique(&run);
}

#[test]
fn a_write_failing_at_any_site_fails_the_run_naming_that_file() {
    let base = session("faults");
    let config = write_config(&base, "finetune", "");
    // Each site a run writes: metrics, each part of a checkpoint, the pointer, the model,
    // the evaluation, and status.json itself (recorded by the in-place fallback).
    for site in [
        "metrics.jsonl",
        "step-000002.safetensors",
        "step-000002.optim.safetensors",
        "step-000004.state.json",
        "latest",
        "demo-test.json",
    ] {
        let s = base.join(site);
        let out = Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
            .args(["launch", config.to_str().unwrap(), "--session"])
            .arg(&s)
            .env(svfap_tui::session::fault::VARIABLE, site)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{site}: {}", stderr(&out));
        let run = only_run(&s);
        let status = RunStatus::read(&run.status_json()).unwrap();
        assert_eq!(status.state, RunState::Failed, "{site}: {status:?}");
        let error = status.last_error.unwrap_or_default();
        assert!(
            error.contains(site) && error.contains("No space left on device"),
            "{site}: {error}"
        );
        assert!(orphans(&run).is_empty(), "{site}: {:?}", orphans(&run));
        assert!(!run.root.join(".reserve").exists(), "{site}: reserve left");
    }
    // status.json itself: at launch nothing is created; under a working worker (a resume)
    // the failure is still recorded, by the in-place fallback.
    let s = base.join("status");
    let fail_status = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
            .args(args)
            .env(svfap_tui::session::fault::VARIABLE, "status.json")
            .output()
            .unwrap()
    };
    let out = fail_status(&["launch", config.to_str().unwrap(), "--session", s.to_str().unwrap()]);
    refused(&out, &["status.json", "No space left on device"]);
    assert_eq!(run_count(&s), 0);
    ok(launch(&config, &s, &["optim.epochs=1"]));
    let run = only_run(&s);
    let toml = std::fs::read_to_string(run.run_toml()).unwrap();
    std::fs::write(run.run_toml(), toml.replace("epochs = 1", "epochs = 3")).unwrap();
    let out = fail_status(&["resume", run.root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let status = RunStatus::read(&run.status_json()).unwrap();
    assert_eq!(status.state, RunState::Failed, "{status:?}");
    let error = status.last_error.unwrap_or_default();
    assert!(
        error.contains("status.json") && error.contains("No space left on device"),
        "{error}"
    );
    assert!(orphans(&run).is_empty(), "{:?}", orphans(&run));
}

#[test]
fn a_run_folder_deleted_under_its_worker_is_not_brought_back() {
    let base = session("deleted");
    let config = write_config(&base, "pretrain", "");
    let s = base.join("s");
    ok(launch_detached(
        &config,
        &s,
        &["optim.epochs=5000", "artifacts.checkpoint_every=5"],
    ));
    let run = only_run(&s);
    wait_for("a checkpoint", Duration::from_secs(120), || {
        run.latest_pointer().is_file()
    });
    let pid = RunStatus::read(&run.status_json()).unwrap().pid.unwrap();
    std::fs::remove_dir_all(&run.root).ok();
    std::fs::remove_dir_all(&run.root).ok();
    wait_for("the worker to exit", Duration::from_secs(30), || unsafe {
        libc::kill(pid as i32, 0) != 0
    });
    assert!(
        !run.root.exists(),
        "came back: {:?}",
        std::fs::read_dir(&run.root).map(|d| d.count())
    );
}

#[test]
fn a_torn_metrics_tail_is_repaired_before_the_next_worker_appends() {
    let base = session("torn");
    let config = write_config(&base, "pretrain", "");
    let s = base.join("s");
    let printed = ok(launch(&config, &s, &["optim.epochs=1"]));
    let run = only_run(&s);
    // A foreground launch keeps a log.txt as a detached one does, and still prints.
    let log = std::fs::read_to_string(run.log_txt()).expect("log.txt");
    assert!(printed.contains("step 1/") && log.contains("step 1/"), "{log}");
    // A worker killed mid-write: half a line at the end.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(run.metrics_jsonl())
        .unwrap();
    use std::io::Write;
    f.write_all(br#"{"step":99,"epoch":0,"split":"train","na"#)
        .unwrap();
    drop(f);
    let text = std::fs::read_to_string(run.run_toml())
        .unwrap()
        .replace("epochs = 1", "epochs = 2");
    std::fs::write(run.run_toml(), text).unwrap();
    let out = svfap(&["resume", run.root.to_str().unwrap()]);
    ok(out);
    metrics_are_whole_and_unique(&run);
}

// ---- 3. Paths ---------------------------------------------------------------------------

#[test]
fn names_that_become_paths_cannot_leave_the_session() {
    let base = session("escape");
    let config = write_config(&base, "finetune", "");
    let s = base.join("s");
    for dataset in ["../../../../escape/x", "/tmp/escape-abs/x", "a/b", "..", ""] {
        let out = launch(&config, &s, &[&format!("data.dataset={dataset}")]);
        refused(&out, &["`data.dataset`"]);
    }
    for name in ["../x", "/tmp/escape-abs", "a b"] {
        let out = launch(&config, &s, &[&format!("name={name}")]);
        refused(&out, &["`name`"]);
    }
    assert_eq!(run_count(&s), 0, "a refused config created a run folder");
    assert!(!Path::new("/tmp/escape-abs").exists());
}

#[test]
fn pretraining_manifests_keep_spaces_tabs_and_a_bom_in_paths() {
    let base = session("spaces");
    let data = demo_data();
    let root = base.join("data");
    let names = ["clip one.mp4", "clip\ttwo.mp4", "clip  three.mp4", "four.mp4"];
    std::fs::create_dir_all(&root).unwrap();
    let mut manifest = String::from("\u{feff}");
    let sources: Vec<PathBuf> = std::fs::read_to_string(data.join("pretrain.csv"))
        .unwrap()
        .lines()
        .map(|l| data.join(l.split_whitespace().next().unwrap()))
        .collect();
    for (i, name) in names.iter().enumerate() {
        std::fs::copy(&sources[i], root.join(name)).unwrap();
        manifest += &format!("{name}\n");
    }
    std::fs::write(root.join("pretrain.csv"), manifest).unwrap();
    let config = write_config_in(&base, "pretrain", "", &root);
    let s = base.join("s");
    let out = launch(&config, &s, &["optim.epochs=1", "optim.batch_size=2"]);
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(out.status.success(), "{log}");
    assert!(!log.contains("skipped"), "a path was cut: {log}");
}

#[test]
fn problems_the_worker_would_meet_are_refused_before_a_run_folder_exists() {
    let base = session("early");
    let config = write_config(&base, "finetune", "");
    let s = base.join("s");
    // More clips per step than the training set has.
    let out = launch(&config, &s, &["optim.batch_size=8", "optim.accumulation=2"]);
    refused(&out, &["data.train", "fewer than one step"]);
    // A bad label in the manifest.
    let root = base.join("badlabel");
    std::fs::create_dir_all(&root).unwrap();
    let data = demo_data();
    let mut train = std::fs::read_to_string(data.join("train.csv")).unwrap();
    train.push_str("extra.mp4 nine\n");
    std::fs::write(root.join("train.csv"), train).unwrap();
    std::fs::copy(data.join("test.csv"), root.join("test.csv")).unwrap();
    let config = write_config_in(&base.join("b"), "finetune", "", &root);
    let out = launch(&config, &s, &[]);
    refused(&out, &["train.csv:15", "label `nine`"]);
    assert_eq!(run_count(&s), 0, "a refused config created a run folder");
    // A session that does not exist is an error, not an empty table.
    let out = svfap(&["status", "--session", "/nonexistent/typo"]);
    refused(&out, &["/nonexistent/typo", "not a session folder"]);
}

#[test]
fn model_import_refuses_text_nan_weights_and_contradicting_flags() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/finetune_tiny.pth");
    let ours = dir.path().join("tiny.safetensors");
    ok(svfap(&[
        "model",
        "import",
        fixture.to_str().unwrap(),
        "--out",
        ours.to_str().unwrap(),
        "--heads",
        "4",
        "--img-size",
        "32",
        "--frames",
        "8",
    ]));
    let out_file = dir.path().join("again.safetensors");
    let import = |input: &Path, extra: &[&str]| {
        let mut args = vec![
            "model",
            "import",
            input.to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        svfap(&args)
    };
    // Our file records its architecture: a flag that contradicts it is refused by name.
    refused(&import(&ours, &["--heads", "2"]), &["--heads 2", "records 4"]);
    ok(import(&ours, &["--heads", "4"]));
    // A text file with the extension.
    let text = dir.path().join("text.safetensors");
    std::fs::write(&text, "these are not weights\n").unwrap();
    refused(&import(&text, &[]), &["not a safetensors file", "a text file"]);
    // NaN in the first stored value.
    let mut bytes = std::fs::read(&ours).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + n..8 + n + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let nan = dir.path().join("nan.safetensors");
    std::fs::write(&nan, bytes).unwrap();
    refused(&import(&nan, &[]), &["holds NaN", "non-finite"]);
}

// ---- 4. Values out of range ---------------------------------------------------------------

#[test]
fn numbers_outside_their_range_are_refused_by_key_before_a_run_folder_exists() {
    let base = session("ranges");
    let config = write_config(&base, "finetune", "");
    let s = base.join("s");
    for (set, key) in [
        ("optim.min_lr=-1e-3", "optim.min_lr"),
        ("optim.warmup_lr=-1", "optim.warmup_lr"),
        ("optim.weight_decay=nan", "optim.weight_decay"),
        ("optim.clip_grad=-1", "optim.clip_grad"),
        ("optim.mixup=-0.5", "optim.mixup"),
        ("optim.cutmix=inf", "optim.cutmix"),
        ("optim.base_lr=1e9", "optim.base_lr"),
        ("data.workers=100000", "data.workers"),
        ("data.workers=0", "data.workers"),
        ("data.test_clips=0", "data.test_clips"),
        ("data.stride=1000", "data.stride"),
        ("optim.batch_size=100000000", "optim.batch_size"),
        ("artifacts.recon_samples=100000", "artifacts.recon_samples"),
        ("optim.epochs=1000000000", "optim.epochs"),
    ] {
        let out = launch(&config, &s, &[set]);
        refused(&out, &[&format!("`{key}`")]);
        assert!(out.status.signal().is_none());
    }
    assert_eq!(run_count(&s), 0, "a refused config created a run folder");
}

#[test]
fn clip_export_sizes_and_counts_are_bounded() {
    let data = demo_data();
    let video = std::fs::read_to_string(data.join("test.csv")).unwrap();
    let video = data.join(video.split_whitespace().next().unwrap());
    let out_file = std::env::temp_dir().join(format!("svfap-clip-{}.npy", std::process::id()));
    for (flag, value) in [
        ("--frames", "0"),
        ("--size", "0"),
        ("--size", "100000"),
        ("--stride", "0"),
        ("--frames", "100000"),
        ("--clips", "0"),
    ] {
        let out = svfap(&[
            "data",
            "clip",
            video.to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
            flag,
            value,
        ]);
        assert!(!out.status.success(), "{flag} {value} accepted");
        assert_ne!(out.status.code(), Some(101), "{flag} {value} panicked: {}", stderr(&out));
        assert!(out.status.signal().is_none(), "{flag} {value} aborted");
        assert!(stderr(&out).contains(flag), "{flag} {value}: {}", stderr(&out));
        assert!(!out_file.exists(), "{flag} {value} wrote a file");
    }
}

// ---- 5. Empty or unusable data ------------------------------------------------------------

/// A copy of the demo data where the listed manifest lines point to files of garbage.
fn data_with_garbage(base: &Path, manifest: &str, garbage: &[usize]) -> PathBuf {
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

#[test]
fn a_run_with_no_readable_training_clip_fails_before_step_one() {
    let base = session("nodata");
    let root = data_with_garbage(&base, "pretrain.csv", &(0..1000).collect::<Vec<_>>());
    let config = write_config_in(&base, "pretrain", "", &root);
    let s = base.join("s");
    let out = launch(&config, &s, &[]);
    assert!(!out.status.success(), "trained on nothing");
    assert!(stderr(&out).contains("no readable training clip"), "{}", stderr(&out));
    let run = only_run(&s);
    let status = RunStatus::read(&run.status_json()).unwrap();
    assert_eq!((status.state, status.step), (RunState::Failed, 0));
    assert!(!run.latest_pointer().exists(), "a checkpoint of random weights");
}

#[test]
fn too_many_unreadable_clips_fail_the_run_with_their_list() {
    let base = session("someunreadable");
    let root = data_with_garbage(&base, "train.csv", &[1, 5, 9]);
    let config = write_config_in(&base, "finetune", "", &root);
    let s = base.join("s");
    let out = launch(&config, &s, &[]);
    assert!(!out.status.success(), "3 of 14 unreadable passed the 5% ceiling");
    let err = stderr(&out);
    assert!(err.contains("data.max_unreadable"), "{err}");
    for i in [1, 5, 9] {
        assert!(err.contains(&format!("garbage-{i}.mp4")), "{err}");
    }
    // Raised above the share, the same data trains.
    let s2 = base.join("s2");
    ok(launch(&config, &s2, &["data.max_unreadable=0.25", "optim.epochs=1"]));
}

#[test]
fn an_evaluation_of_no_video_is_an_error_not_a_score() {
    let base = session("noeval");
    let root = data_with_garbage(&base, "test.csv", &(0..1000).collect::<Vec<_>>());
    let config = write_config_in(&base, "finetune", "", &root);
    let s = base.join("s");
    let out = launch(&config, &s, &["optim.epochs=1"]);
    assert!(!out.status.success(), "scored an empty test set");
    assert!(stderr(&out).contains("0 of 7 test videos"), "{}", stderr(&out));
    let run = only_run(&s);
    assert!(
        !run.eval_file("demo", "test").exists(),
        "an evaluation of nothing was written"
    );
    let records = MetricsTail::new(run.metrics_jsonl())
        .poll(usize::MAX)
        .unwrap()
        .records;
    assert!(!records.iter().any(|r| r.name == "uar"), "UAR of nothing logged");
}

// ---- 6. Crashes -----------------------------------------------------------------------------

#[test]
fn a_panic_in_the_worker_is_recorded_as_failed_with_its_message() {
    let base = session("panic");
    let config = write_config(&base, "pretrain", "");
    let s = base.join("s");
    let out = Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
        .args(["launch", config.to_str().unwrap(), "--session"])
        .arg(&s)
        .env(svfap_tui::train::crash_point::VARIABLE, "step:2:panic")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let run = only_run(&s);
    let status = RunStatus::read(&run.status_json()).unwrap();
    assert_eq!(status.state, RunState::Failed, "{status:?}");
    let error = status.last_error.unwrap_or_default();
    assert!(error.contains("panic") && error.contains("step:2"), "{error}");
}
