//! Several processes under Open MPI's mpirun on this machine's loopback, CPU backend (how the
//! multi-process path is tested without GPUs): 2 ranks train exactly what 1 process with the
//! combined batch trains; a rank killed or hung ends the job with the rank named, and the run
//! resumes, on 2 processes or on 1 with doubled accumulation, to the same weights.
//!
//! The weights come out bit-identical, not merely within 1e-5: each step's gradient is the
//! sum of the same two micro-batch gradients (f32 addition of two terms is commutative, and
//! the all-reduce of 2 ranks adds exactly those two), with the same masks and samples.
//! The logged loss agrees to f32 rounding (it travels in the f32 all-reduce buffer).
#![cfg(feature = "mpi")]

mod common_cli;
mod common_runs;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common_cli::ok;
use common_runs::{demo_data, final_checkpoint, only_run, session};
use svfap_tui::session::{MetricsTail, RunDir, RunLock, RunState, RunStatus};
use svfap_tui::train::crash_point::VARIABLE as CRASH_POINT;

/// A 2-epoch pre-training of the `test` preset: 24 clips, micro-batches of 2, 4 clips a step.
fn config(dir: &Path, devices: &str, accumulation: usize, timeout: u64) -> PathBuf {
    let text = format!(
        r#"format = 1
kind = "pretrain"
name = "mpi"
seed = 3
devices = {devices}
collective_timeout = {timeout}
[model]
preset = "test"
mask_ratio = 0.75
[data]
dataset = "demo"
root = "{root}"
train = "pretrain.csv"
stride = 2
workers = 1
[optim]
batch_size = 2
accumulation = {accumulation}
epochs = 2
warmup_epochs = 1
base_lr = 0.05
betas = [0.9, 0.95]
[artifacts]
checkpoint_every = 2
keep_last = 2
"#,
        root = demo_data().display()
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("pretrain.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn svfap(args: &[&str], crash: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_svfap-tui"));
    cmd.args(args);
    if let Some(point) = crash {
        cmd.env(CRASH_POINT, point);
    }
    cmd.output().expect("binary runs")
}

fn launch(config: &Path, session: &Path, crash: Option<&str>) -> (RunDir, Output) {
    let out = svfap(
        &[
            "launch",
            config.to_str().unwrap(),
            "--session",
            session.to_str().unwrap(),
        ],
        crash,
    );
    (only_run(session), out)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// (step, loss) of every training loss record.
fn losses(run: &RunDir) -> Vec<(u64, f64)> {
    let mut tail = MetricsTail::new(run.metrics_jsonl());
    tail.poll(usize::MAX)
        .unwrap()
        .records
        .into_iter()
        .filter(|r| r.split == "train" && r.name == "loss")
        .map(|r| (r.step, r.value))
        .collect()
}

/// The uninterrupted 2-rank run every other run is compared with.
fn two_ranks() -> &'static RunDir {
    static RUN: OnceLock<RunDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let base = session("mpi-two");
        let (run, out) = launch(&config(&base, "[0, 1]", 1, 60), &base.join("s"), None);
        let log = ok(out);
        assert!(
            log.contains("effective batch = batch 2 × 2 ranks × accumulation 1 = 4"),
            "{log}"
        );
        run
    })
}

#[test]
fn two_ranks_train_the_weights_of_one_process_with_the_combined_batch() {
    let two = two_ranks();
    let base = session("mpi-one");
    let (one, out) = launch(&config(&base, "[0]", 2, 60), &base.join("s"), None);
    ok(out);
    let (a, b) = (final_checkpoint(two), final_checkpoint(&one));
    assert_eq!(a.len(), 170);
    for (key, values) in &a {
        let diff = values
            .iter()
            .zip(&b[key])
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(diff <= 1e-5, "{key}: differs by {diff}");
    }
    assert!(a == b, "not bit-identical");
    // One loss record per step (rank 0's), the mean over all 4 clips of the step.
    let (l2, l1) = (losses(two), losses(&one));
    assert_eq!(l2.len(), 12);
    for ((s2, v2), (s1, v1)) in l2.iter().zip(&l1) {
        assert_eq!(s2, s1);
        assert!((v2 - v1).abs() < 1e-6, "step {s2}: {v2} vs {v1}");
    }
    let status = RunStatus::read(&two.status_json()).unwrap();
    assert_eq!((status.state, status.world_size), (RunState::Finished, 2));
    let ranks: Vec<u64> = status.ranks.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, vec![0, 1]);
    // Both ranks' heartbeats, and only rank 0 wrote the log (no line twice).
    let log = std::fs::read_to_string(two.log_txt()).unwrap();
    assert_eq!(log.matches("step 12/12 ").count(), 1, "{log}");
    assert!(two.root.join("ranks/rank-001.json").is_file());
}

#[test]
fn a_killed_rank_ends_the_job_naming_it_and_the_run_resumes_to_the_same_weights() {
    let base = session("mpi-kill");
    let start = Instant::now();
    let (run, out) = launch(
        &config(&base, "[0, 1]", 1, 60),
        &base.join("s"),
        Some("step:5@1"),
    );
    assert!(!out.status.success(), "{}", text(&out));
    // mpirun ends rank 0 at once; well within the 60 s collective timeout.
    assert!(
        start.elapsed() < Duration::from_secs(50),
        "{:?}",
        start.elapsed()
    );
    let status = RunStatus::read(&run.status_json()).unwrap();
    let error = status.last_error.clone().unwrap_or_default();
    assert_eq!(status.state, RunState::Failed, "{error}");
    assert!(
        error.contains("rank 1 (host") && error.contains("exited"),
        "{error}"
    );
    ok(svfap(&["resume", run.root.to_str().unwrap()], None));
    assert!(final_checkpoint(&run) == final_checkpoint(two_ranks()));
}

#[test]
fn a_hung_rank_ends_the_job_after_the_timeout_naming_it() {
    let base = session("mpi-hang");
    let start = Instant::now();
    let (run, out) = launch(
        &config(&base, "[0, 1]", 1, 5),
        &base.join("s"),
        Some("step:5:stop@1"),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    let status = RunStatus::read(&run.status_json()).unwrap();
    let error = status.last_error.unwrap_or_default();
    assert_eq!(status.state, RunState::Failed, "{error}");
    assert!(
        error.contains("did not complete within 5 s") && error.contains("rank 1 (host"),
        "{error}"
    );
    // MPI_Abort took the stopped rank with it: the run folder is free to resume.
    ok(svfap(&["resume", run.root.to_str().unwrap()], None));
    assert_eq!(
        RunStatus::read(&run.status_json()).unwrap().state,
        RunState::Finished
    );
}

#[test]
fn a_run_of_two_ranks_resumes_on_one_process_with_doubled_accumulation() {
    let base = session("mpi-shrink");
    let (run, out) = launch(
        &config(&base, "[0, 1]", 1, 60),
        &base.join("s"),
        Some("step:5@1"),
    );
    assert!(!out.status.success());
    // Three processes cannot keep 2 micro-batches a step: refused, nothing changed.
    let refused = svfap(
        &["resume", run.root.to_str().unwrap(), "--processes", "3"],
        None,
    );
    assert!(!refused.status.success());
    let said = std::fs::read_to_string(run.log_txt()).unwrap() + &text(&refused);
    assert!(
        said.contains("3 processes cannot keep that effective batch"),
        "{said}"
    );
    let log = ok(svfap(
        &["resume", run.root.to_str().unwrap(), "--processes", "1"],
        None,
    ));
    assert!(log.contains("accumulation 2 per process"), "{log}");
    // Same schedule and samples: the loss curve continues as the 2-rank run's did.
    let (resumed, two) = (losses(&run), losses(two_ranks()));
    assert_eq!(resumed.len(), two.len());
    for ((s, a), (_, b)) in resumed.iter().zip(&two) {
        assert!((a - b).abs() < 1e-6, "step {s}: {a} vs {b}");
    }
    assert!(final_checkpoint(&run) == final_checkpoint(two_ranks()));
}

/// [`config`] as a fine-tuning of the demo's labelled clips, evaluated on its 7 test videos.
fn finetune_config(dir: &Path, devices: &str, accumulation: usize) -> PathBuf {
    let path = config(dir, devices, accumulation, 60);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("kind = \"pretrain\"", "kind = \"finetune\"")
        .replace(
            "train = \"pretrain.csv\"",
            "train = \"train.csv\"\ntest = \"test.csv\"\ntest_clips = 2",
        );
    let path = dir.join("finetune.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn two_ranks_share_the_evaluation_and_score_what_one_process_scores() {
    let mut evals = Vec::new();
    for (name, devices, accumulation) in [("two", "[0, 1]", 1), ("one", "[0]", 2)] {
        let base = session(&format!("mpi-eval-{name}"));
        let (run, out) = launch(
            &finetune_config(&base, devices, accumulation),
            &base.join("s"),
            None,
        );
        ok(out);
        let log = std::fs::read_to_string(run.log_txt()).unwrap();
        if name == "two" {
            // Rank 0 takes test videos 1, 3, 5, 7 and rank 1 videos 2, 4, 6.
            assert!(log.contains("scored by 2 processes: 4 + 3"), "{log}");
        }
        let eval: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.eval_file("demo", "test")).unwrap())
                .unwrap();
        evals.push(eval);
    }
    assert_eq!(evals[0]["predictions"].as_array().unwrap().len(), 7);
    assert_eq!(evals[0]["predictions"], evals[1]["predictions"]);
    assert_eq!(evals[0]["metrics"], evals[1]["metrics"]);
}

/// A second job for a run that already has a worker (here this test holds the run's lock)
/// is refused on rank 0 naming the holder, and the whole job ends at once: the other rank
/// must not wait in a collective for a rank 0 that has left (it waited the collective
/// timeout, then failed with a misleading message).
#[test]
fn a_second_job_on_a_run_with_a_worker_ends_at_once_naming_the_holder() {
    let base = session("mpi-held");
    let config = config(&base, "[0, 1]", 1, 120);
    let s = base.join("s");
    ok(svfap(
        &[
            "launch",
            config.to_str().unwrap(),
            "--session",
            s.to_str().unwrap(),
            "--create-only",
        ],
        None,
    ));
    let run = only_run(&s);
    let _held = RunLock::acquire(&run).unwrap();
    let started = std::time::Instant::now();
    let out = svfap(&["run", run.root.to_str().unwrap()], None);
    let elapsed = started.elapsed();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        elapsed < std::time::Duration::from_secs(60),
        "took {elapsed:?}: {}",
        text(&out)
    );
    assert!(
        text(&out).contains(&format!("already has a worker (pid {}", std::process::id())),
        "{}",
        text(&out)
    );
}
