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
use std::process::Command;
use std::time::Duration;

use common_cli::{ok, svfap};
use common_hostile::*;
use common_runs::{only_run, session, wait_for, write_config};
use svfap_tui::session::{RunDir, RunState, RunStatus};

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
    let host = svfap_tui::session::host::hostname();
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

#[test]
fn stopping_a_run_whose_worker_is_gone_never_signals_the_pids_new_owner() {
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir::new(dir.path().join("runs/pretrain-20240101-000000-x"));
    std::fs::create_dir_all(&run.root).unwrap();
    // The pid now belongs to a stranger; the heartbeat is stale or fresh, no worker is alive.
    let mut stranger = Command::new("sleep").arg("30").spawn().unwrap();
    for updated in [
        "2024-01-01T00:00:00Z".to_string(),
        svfap_tui::session::now_rfc3339(),
    ] {
        let status = RunStatus {
            state: RunState::Running,
            pid: Some(stranger.id()),
            host: svfap_tui::session::host::hostname(),
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
        assert!(
            err.contains("not running") || err.contains("no worker"),
            "{err}"
        );
    }
    stranger.kill().ok();
}

// ---- 2. I/O faults ----------------------------------------------------------------------

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
        &[
            "optim.epochs=6",
            "artifacts.checkpoint_every=1",
            "artifacts.keep_last=3",
        ],
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
fn resuming_a_run_on_a_read_only_folder_names_the_folder_and_changes_nothing() {
    let base = session("readonly");
    let config = write_config(&base, "finetune", "");
    let Some(disk) = Tmpfs::mount(&base.join("disk"), "64m") else {
        eprintln!("tmpfs cannot be mounted here (not root?): no read-only folder to test on");
        return;
    };
    // A run that failed writing its second checkpoint, after a complete first one: there
    // is something to resume.
    let s = disk.0.join("s");
    let out = Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
        .args(["launch", config.to_str().unwrap(), "--session"])
        .arg(&s)
        .env(
            svfap_tui::session::fault::VARIABLE,
            "step-000004.state.json",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let run = only_run(&s);
    let before = std::fs::read(run.status_json()).unwrap();
    disk.writable(false);
    let out = svfap(&["resume", run.root.to_str().unwrap()]);
    let refusal = stderr(&out);
    disk.writable(true);
    assert_eq!(out.status.code(), Some(1), "{refusal}");
    assert!(out.status.signal().is_none(), "crashed: {refusal}");
    assert!(
        refusal.contains(&run.root.display().to_string()) && refusal.contains("not writable"),
        "the refusal must name the run folder: {refusal}"
    );
    assert_eq!(std::fs::read(run.status_json()).unwrap(), before);
    // Writable again, the same run resumes and finishes.
    ok(svfap(&["resume", run.root.to_str().unwrap()]));
    assert_eq!(
        RunStatus::read(&run.status_json()).unwrap().state,
        RunState::Finished
    );
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
    let out = fail_status(&[
        "launch",
        config.to_str().unwrap(),
        "--session",
        s.to_str().unwrap(),
    ]);
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
    assert!(
        printed.contains("step 1/") && log.contains("step 1/"),
        "{log}"
    );
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
    assert!(
        error.contains("panic") && error.contains("step:2"),
        "{error}"
    );
}
