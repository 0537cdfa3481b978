//! Hostile input and faults: what an adversarial user (or a bad day) does to a session, and
//! what must happen instead of silent damage. Each test failed on the code before it.
//!
//! Classes, so the next reader extends them rather than the instances:
//! 1. Concurrency on one run folder: two workers, a stop aimed at a process that is not
//!    the run's worker (pid reuse). (hostile_faults.rs)
//! 2. I/O faults: disk full at every write site, torn files, a run folder deleted under its
//!    worker. (hostile_faults.rs)
//! 3. Path grammar and escapes: manifest paths with spaces/tabs/BOM, names that become path
//!    components, problems found only after a run folder existed. (hostile_input.rs)
//! 4. Values out of range: every config number, every CLI size and count, model files that
//!    are not what they claim. (hostile_input.rs)
//! 5. Empty or unusable data: no readable clips, evaluations of nothing, a pre-training
//!    checkpoint of a run that did not finish. (hostile_input.rs)
//! 6. Crashes: a panic in the worker is recorded as `failed` with its message.
//!    (hostile_faults.rs)

mod common_cli;
mod common_hostile;
mod common_runs;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use common_cli::{ok, svfap};
use common_hostile::*;
use common_runs::{demo_data, only_run, session, write_config, write_config_in};
use svfap_tui::session::{MetricsTail, RunState, RunStatus};

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
    let names = [
        "clip one.mp4",
        "clip\ttwo.mp4",
        "clip  three.mp4",
        "four.mp4",
    ];
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
    refused(
        &import(&ours, &["--heads", "2"]),
        &["--heads 2", "records 4"],
    );
    ok(import(&ours, &["--heads", "4"]));
    // A text file with the extension.
    let text = dir.path().join("text.safetensors");
    std::fs::write(&text, "these are not weights\n").unwrap();
    refused(
        &import(&text, &[]),
        &["not a safetensors file", "a text file"],
    );
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
        assert_ne!(
            out.status.code(),
            Some(101),
            "{flag} {value} panicked: {}",
            stderr(&out)
        );
        assert!(out.status.signal().is_none(), "{flag} {value} aborted");
        assert!(
            stderr(&out).contains(flag),
            "{flag} {value}: {}",
            stderr(&out)
        );
        assert!(!out_file.exists(), "{flag} {value} wrote a file");
    }
}

// ---- 5. Empty or unusable data ------------------------------------------------------------

#[test]
fn a_run_with_no_readable_training_clip_fails_before_step_one() {
    let base = session("nodata");
    let root = data_with_garbage(&base, "pretrain.csv", &(0..1000).collect::<Vec<_>>());
    let config = write_config_in(&base, "pretrain", "", &root);
    let s = base.join("s");
    let out = launch(&config, &s, &[]);
    assert!(!out.status.success(), "trained on nothing");
    assert!(
        stderr(&out).contains("no readable training clip"),
        "{}",
        stderr(&out)
    );
    let run = only_run(&s);
    let status = RunStatus::read(&run.status_json()).unwrap();
    assert_eq!((status.state, status.step), (RunState::Failed, 0));
    assert!(
        !run.latest_pointer().exists(),
        "a checkpoint of random weights"
    );
}

#[test]
fn too_many_unreadable_clips_fail_the_run_with_their_list() {
    let base = session("someunreadable");
    let root = data_with_garbage(&base, "train.csv", &[1, 5, 9]);
    let config = write_config_in(&base, "finetune", "", &root);
    let s = base.join("s");
    let out = launch(&config, &s, &[]);
    assert!(
        !out.status.success(),
        "3 of 14 unreadable passed the 5% ceiling"
    );
    let err = stderr(&out);
    assert!(err.contains("data.max_unreadable"), "{err}");
    for i in [1, 5, 9] {
        assert!(err.contains(&format!("garbage-{i}.mp4")), "{err}");
    }
    // Raised above the share, the same data trains.
    let s2 = base.join("s2");
    ok(launch(
        &config,
        &s2,
        &["data.max_unreadable=0.25", "optim.epochs=1"],
    ));
}

#[test]
fn an_evaluation_of_no_video_is_an_error_not_a_score() {
    let base = session("noeval");
    let root = data_with_garbage(&base, "test.csv", &(0..1000).collect::<Vec<_>>());
    let config = write_config_in(&base, "finetune", "", &root);
    let s = base.join("s");
    let out = launch(&config, &s, &["optim.epochs=1"]);
    assert!(!out.status.success(), "scored an empty test set");
    assert!(
        stderr(&out).contains("0 of 7 test videos"),
        "{}",
        stderr(&out)
    );
    let run = only_run(&s);
    assert!(
        !run.eval_file("demo", "test").exists(),
        "an evaluation of nothing was written"
    );
    let records = MetricsTail::new(run.metrics_jsonl())
        .poll(usize::MAX)
        .unwrap()
        .records;
    assert!(
        !records.iter().any(|r| r.name == "uar"),
        "UAR of nothing logged"
    );
}
