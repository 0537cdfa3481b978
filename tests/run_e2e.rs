//! End-to-end runs of the real binary on generated videos: a run killed with SIGKILL
//! resumes from its last complete checkpoint and ends with the same weights as an
//! uninterrupted run; SIGTERM finishes the step, checkpoints and marks the run stopped;
//! every file of the session contract is written and parseable.

mod common_cli;
mod common_runs;

use std::process::Command;
use std::time::Duration;

use common_cli::{ok, svfap};
use common_runs::{demo_data, final_checkpoint, only_run, session, wait_for, write_config};
use svfap_tui::session::artifacts::{AttnMeta, ReconKind, ReconMeta};
use svfap_tui::session::{EvalReport, MetricsTail, RunDir, RunState, RunStatus};

#[test]
fn killed_run_resumes_to_the_same_weights_as_an_uninterrupted_one() {
    let base = session("kill");
    let config = write_config(&base, "pretrain", "");

    let straight = base.join("straight");
    ok(svfap(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        straight.to_str().unwrap(),
    ]));
    let reference = only_run(&straight);
    assert_eq!(
        RunStatus::read(&reference.status_json()).unwrap().state,
        RunState::Finished
    );

    let killed = base.join("killed");
    ok(svfap(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        killed.to_str().unwrap(),
        "--detach",
    ]));
    let run = only_run(&killed);
    // Kill after the first checkpoint (step 2) but before the end.
    wait_for("a checkpoint", Duration::from_secs(120), || {
        RunStatus::read(&run.status_json()).is_ok_and(|s| s.step >= 3 && s.pid.is_some())
            && run.latest_pointer().is_file()
    });
    let pid = RunStatus::read(&run.status_json()).unwrap().pid.unwrap();
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    wait_for(
        "the worker to die",
        Duration::from_secs(10),
        || unsafe { libc::kill(pid as i32, 0) } != 0,
    );
    ok(svfap(&["resume", run.root.to_str().unwrap()]));

    assert_eq!(
        RunStatus::read(&run.status_json()).unwrap().state,
        RunState::Finished
    );
    let (resumed, uninterrupted) = (final_checkpoint(&run), final_checkpoint(&reference));
    assert_eq!(resumed.len(), 170);
    let differing: Vec<&String> = resumed
        .keys()
        .filter(|k| resumed[*k] != uninterrupted[*k])
        .collect();
    assert!(
        differing.is_empty(),
        "resumed weights differ in {differing:?}"
    );

    // Killed half-way through writing the step-4 checkpoint: after the model file, and after
    // the state but before `latest`. The resume starts from step 2 and ends the same.
    for point in ["checkpoint-model", "checkpoint-state"] {
        let session = base.join(point);
        let out = Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
            .args(["launch", config.to_str().unwrap(), "--session"])
            .arg(&session)
            .env(
                svfap_tui::train::crash_point::VARIABLE,
                format!("{point}:4"),
            )
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGKILL), "{point}: {out:?}");
        let run = only_run(&session);
        assert_eq!(
            std::fs::read_to_string(run.latest_pointer())
                .unwrap()
                .trim(),
            "step-000002",
            "{point}"
        );
        let resumed = ok(svfap(&["resume", run.root.to_str().unwrap()]));
        assert!(resumed.contains("(step 2)"), "{point}: {resumed}");
        assert!(
            final_checkpoint(&run) == uninterrupted,
            "{point}: resumed weights differ"
        );
    }
}

#[test]
fn sigterm_finishes_the_step_checkpoints_and_marks_the_run_stopped() {
    let base = session("term");
    let config = write_config(&base, "pretrain", "");
    let s = base.join("s");
    ok(svfap(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
        "--detach",
        "--set",
        // Long enough that it cannot finish before the signal lands (50 epochs of the test
        // preset took 2 s and once finished first on a loaded CI machine).
        "optim.epochs=5000",
        "--set",
        "artifacts.checkpoint_every=100000",
    ]));
    let run = only_run(&s);
    wait_for("the first step", Duration::from_secs(120), || {
        RunStatus::read(&run.status_json()).is_ok_and(|s| s.step >= 1)
    });
    let pid = RunStatus::read(&run.status_json()).unwrap().pid.unwrap();
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    wait_for("stopped", Duration::from_secs(60), || {
        RunStatus::read(&run.status_json()).is_ok_and(|s| s.state == RunState::Stopped)
    });
    let status = RunStatus::read(&run.status_json()).unwrap();
    let stem = std::fs::read_to_string(run.latest_pointer()).unwrap();
    assert_eq!(
        stem.trim(),
        format!("step-{:06}", status.step),
        "checkpoint at the stopping step"
    );
}

#[test]
fn pretrain_then_finetune_writes_every_file_of_the_contract() {
    let base = session("contract");
    let s = base.join("s");
    let pre = write_config(&base, "pretrain", "");
    ok(svfap(&[
        "launch",
        pre.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
    ]));
    let fine = write_config(&base, "finetune", "init = \"latest-pretrain\"");
    ok(svfap(&[
        "launch",
        fine.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
        "--set",
        "optim.betas=[0.9, 0.999]",
        "--set",
        "optim.layer_decay=0.75",
        "--set",
        "artifacts.eval_every=2",
    ]));
    let mut runs: Vec<RunDir> = std::fs::read_dir(s.join("runs"))
        .unwrap()
        .flatten()
        .map(|e| RunDir::new(e.path()))
        .collect();
    runs.sort_by_key(|r| r.id());
    assert_eq!(runs.len(), 2);
    let finetune = runs
        .iter()
        .find(|r| r.id().starts_with("finetune-"))
        .unwrap();
    let pretrain = runs
        .iter()
        .find(|r| r.id().starts_with("pretrain-"))
        .unwrap();
    for run in &runs {
        assert!(run.run_toml().is_file());
        assert_eq!(
            RunStatus::read(&run.status_json()).unwrap().state,
            RunState::Finished
        );
        assert!(run.latest_pointer().is_file());
        let mut tail = MetricsTail::new(run.metrics_jsonl());
        let records = tail.poll(usize::MAX).unwrap().records;
        assert!(
            records
                .iter()
                .any(|r| r.name == "loss" && r.value.is_finite()),
            "{}",
            run.id()
        );
        assert!(records.iter().any(|r| r.name == "lr"));
        // Each step's wall time and the part of it spent waiting for data (bench train).
        let value = |name: &str| records.iter().find(|r| r.name == name).map(|r| r.value);
        let (step, wait) = (
            value("step_seconds").unwrap(),
            value("data_wait_seconds").unwrap(),
        );
        assert!(step > 0.0 && (0.0..=step).contains(&wait), "{step} {wait}");
    }
    // Reconstructions of the held-out clips at the last step: meta.json and every frame.
    let steps = svfap_tui::session::layout::list_step_dirs(&pretrain.recon());
    let last = *steps.last().expect("a reconstruction step");
    let meta = ReconMeta::read(&pretrain.recon_step(last)).unwrap();
    assert_eq!((meta.samples.len(), meta.frames), (4, 8));
    assert!(meta.samples.iter().all(|s| s.mse.is_finite()));
    for kind in ReconKind::ALL {
        let png = ReconMeta::frame_file(&pretrain.recon_step(last), 3, kind, 7);
        assert_eq!(
            image::image_dimensions(&png).unwrap(),
            (32, 32),
            "{}",
            png.display()
        );
    }
    // Attention maps of the fine-tuned model: self, cross and assignment arrays as declared.
    let steps = svfap_tui::session::layout::list_step_dirs(&finetune.attn());
    let dir = finetune.attn_step(*steps.last().expect("an attention step"));
    let meta = AttnMeta::read(&dir).unwrap();
    for kind in ["self", "cross", "assignment"] {
        assert!(meta.maps.iter().any(|m| m.kind == kind), "no {kind} map");
    }
    for map in &meta.maps {
        let array = svfap_tui::npy::read_f32(&dir.join(&map.file)).unwrap();
        assert_eq!(array.shape, map.shape, "{}", map.file);
    }
    // The fine-tuning run started from the pre-training checkpoint.
    let frozen = std::fs::read_to_string(finetune.run_toml()).unwrap();
    assert!(
        frozen.contains(&pretrain.checkpoints().display().to_string()),
        "{frozen}"
    );
    // Two epochs with `eval_every = 2`: evaluated once, after the last epoch.
    let records = MetricsTail::new(finetune.metrics_jsonl())
        .poll(usize::MAX)
        .unwrap()
        .records;
    let eval_epochs: Vec<u64> = records
        .iter()
        .filter(|r| r.name == "uar")
        .map(|r| r.epoch)
        .collect();
    assert_eq!(eval_epochs, vec![1]);
    let report = EvalReport::read(&finetune.eval_file("demo", "test")).unwrap();
    assert_eq!(report.predictions.len(), 7);
    assert_eq!(report.class_names.len(), 7);
    assert!(
        (0.0..=1.0).contains(&report.metrics["uar"])
            && (0.0..=1.0).contains(&report.metrics["war"])
    );
}

#[test]
fn a_bad_config_is_refused_before_a_run_starts() {
    let base = session("bad");
    let config = write_config(&base, "pretrain", "");
    let s = base.join("s");
    let out = svfap(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
        "--set",
        "model.mask_ratio=1.2",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`model.mask_ratio`"));
    let out = svfap(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
        "--set",
        "data.train=missing.csv",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`data.train`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !s.join("runs").exists() || std::fs::read_dir(s.join("runs")).unwrap().count() == 0,
        "no run folder for a refused config"
    );
}

/// The README's `svfap-tui demo --headless` takes its session as a path relative to where
/// it is run (`sessions/demo` by default): fine-tuning from the pre-training run must find
/// that run wherever its config is written.
#[test]
fn the_headless_demo_runs_end_to_end_with_a_session_path_relative_to_the_cwd() {
    let cwd = session("demo-cwd");
    let demo = cwd.join("sessions/demo");
    std::fs::create_dir_all(&demo).unwrap();
    std::os::unix::fs::symlink(demo_data(), demo.join("data")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
        .current_dir(&cwd)
        .args(["demo", "--headless", "--session", "sessions/demo"])
        .args(["--set", "model.preset=test", "--set", "optim.epochs=1"])
        .args([
            "--set",
            "optim.warmup_epochs=0",
            "--set",
            "optim.batch_size=4",
        ])
        .args(["--set", "data.stride=2"])
        .output()
        .unwrap();
    let summary = ok(out);
    let runs: Vec<RunDir> = std::fs::read_dir(demo.join("runs"))
        .unwrap()
        .map(|e| RunDir::new(e.unwrap().path()))
        .collect();
    assert_eq!(
        runs.len(),
        3,
        "pre-training and two fine-tunings: {summary}"
    );
    for run in &runs {
        let status = RunStatus::read(&run.status_json()).unwrap();
        assert_eq!(
            status.state,
            RunState::Finished,
            "{}: {status:?}",
            run.root.display()
        );
        let log = std::fs::read_to_string(run.log_txt()).unwrap_or_default();
        assert!(
            log.contains("step "),
            "{}: log.txt holds the run's output",
            run.root.display()
        );
    }
}

/// What `tools/gpu-check` does on a GPU server whose binary has no FFmpeg, here on the CPU:
/// demo data as frame folders, then one epoch of the training loop through `bench train`,
/// summarised in a table row with the share of step time spent waiting for data.
#[test]
fn bench_train_runs_on_demo_frame_folders_and_prints_its_table_row() {
    let base = session("bench-frames");
    let data = base.join("data");
    ok(svfap(&[
        "demo-data",
        data.to_str().unwrap(),
        "--format",
        "frames",
        "--train",
        "8",
        "--test",
        "2",
        "--unlabeled",
        "0",
        "--size",
        "48",
        "--frames",
        "16",
    ]));
    let first = std::fs::read_to_string(data.join("train.csv")).unwrap();
    let folder = data.join(first.split_once(' ').unwrap().0);
    assert!(folder.join("00016.jpg").is_file(), "{}", folder.display());
    let out = ok(svfap(&[
        "bench",
        "train",
        "--mode",
        "finetune",
        "--session",
        base.to_str().unwrap(),
        "--set",
        "model.preset=\"test\"",
        "--set",
        "optim.batch_size=2",
        "--set",
        "data.workers=1",
        "--set",
        "data.stride=1",
        "--set",
        "data.augment=\"paper\"",
    ]));
    let row = out
        .lines()
        .find(|l| l.starts_with("row |"))
        .unwrap_or_else(|| panic!("no table row:\n{out}"));
    assert!(
        row.starts_with("row | cpu | test | finetune | f32 | 2 | 1 | 1 | "),
        "{row}"
    );
    let waiting: f64 = row
        .trim_end_matches(['|', ' ', '%'])
        .rsplit("| ")
        .next()
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap_or_else(|e| panic!("{row}: {e}"));
    assert!((0.0..=100.0).contains(&waiting), "{row}");
    assert!(out.contains("2 steps measured"), "{out}");
}

/// A SLURM batch script creates the run first and lets `srun` start its ranks:
/// `launch --create-only` prints the new run folder (queued, nothing trained) and
/// `run RUN_DIR` trains it.
#[test]
fn a_run_created_only_waits_queued_until_run_starts_it() {
    let (run, printed) = created_run("create-only");
    assert_eq!(printed.trim(), run.root.to_str().unwrap());
    let status = RunStatus::read(&run.status_json()).unwrap();
    assert_eq!((status.state, status.step), (RunState::Queued, 0));
    assert!(!run.metrics_jsonl().exists() || losses_logged(&run) == 0);
    ok(svfap(&["run", run.root.to_str().unwrap()]));
    assert_eq!(
        RunStatus::read(&run.status_json()).unwrap().state,
        RunState::Finished
    );
    assert!(losses_logged(&run) > 0);
}

/// A pre-training run folder made by `launch --create-only`, and what that printed.
fn created_run(name: &str) -> (RunDir, String) {
    let base = session(name);
    let config = write_config(&base, "pretrain", "");
    let s = base.join("s");
    let printed = ok(svfap(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
        "--create-only",
    ]));
    (only_run(&s), printed)
}

fn losses_logged(run: &RunDir) -> usize {
    MetricsTail::new(run.metrics_jsonl())
        .poll(usize::MAX)
        .map_or(0, |t| t.records.iter().filter(|r| r.name == "loss").count())
}

/// `srun -n 2 svfap-tui run RUN` without `--mpi=pmix` gives each task no MPI rank: each
/// started its own mpirun on the same run folder and one job hung. Refused at once, saying
/// how to start it.
#[test]
fn srun_tasks_without_an_mpi_interface_are_refused_naming_the_fix() {
    let (run, _) = created_run("srun-plain");
    let out = Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
        .args(["run", run.root.to_str().unwrap()])
        .env("SLURM_JOB_ID", "7")
        .env("SLURM_PROCID", "1")
        .env("SLURM_NTASKS", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("task 2 of 2") && stderr.contains("srun --mpi=pmix"),
        "{stderr}"
    );
    let status = RunStatus::read(&run.status_json()).unwrap();
    assert_eq!(status.state, RunState::Queued, "nothing ran");
}
