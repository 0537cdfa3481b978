//! The worker process of a run (`svfap-tui run|resume RUN_DIR`): reads the frozen config,
//! installs the stop signals and the heartbeat, runs the run kind on the chosen backend and
//! precision, and records how it ended in `status.json`.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use burn::tensor::backend::AutodiffBackend;

use super::clip_source::{ClipSource, LabelSpace};
use super::finetune_run::{evaluate_only, finetune};
use super::pretrain_run::pretrain;
use super::run_config::{RunConfig, RunKind};
use super::worker::{HEARTBEAT, Heartbeat, Outcome, RunContext};
use crate::model::precision::autocast;
use crate::session::{MetricsWriter, RunDir, RunState, RunStatus};

/// Opens a run's data: the clip source and what its labels mean.
pub type OpenSource<'a> = &'a dyn Fn(&RunConfig) -> Result<(Box<dyn ClipSource>, LabelSpace)>;

/// `svfap-tui run|resume <run-dir>`: runs the frozen config to the end (or to a stop
/// request), resuming from the latest complete checkpoint when there is one.
pub fn run_worker(
    dir: &Path,
    require_checkpoint: bool,
    open_source: OpenSource,
) -> Result<Outcome> {
    let run = RunDir::new(dir);
    if !run.run_toml().is_file() {
        bail!("{}: no run.toml (not a run folder)", dir.display());
    }
    let config = RunConfig::load(&run.run_toml(), &[])?;
    if require_checkpoint && super::checkpoint_state::read_latest(&run.checkpoints())?.is_none() {
        bail!(
            "{}: no complete checkpoint to resume from",
            run.checkpoints().display()
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .context("cannot install signal handlers")?;
    }
    let previous = RunStatus::read(&run.status_json()).unwrap_or_default();
    let status = Arc::new(Mutex::new(RunStatus {
        state: RunState::Running,
        pid: Some(std::process::id()),
        host: hostname(),
        last_error: None,
        ..previous
    }));
    let heartbeat = Heartbeat::start(status.clone(), run.status_json(), HEARTBEAT);
    let result = (|| -> Result<Outcome> {
        let (mut source, labels) = open_source(&config)?;
        let mut ctx = RunContext {
            clip_shape: source.clip_shape(),
            dir: run.clone(),
            config: config.clone(),
            labels,
            stop: stop.clone(),
            status: status.clone(),
            metrics: MetricsWriter::open(&run.metrics_jsonl())?,
        };
        dispatch(&mut ctx, source.as_mut())
    })();
    drop(heartbeat);
    let (state, error) = match &result {
        Ok(Outcome::Finished) => (RunState::Finished, None),
        Ok(Outcome::Stopped) => (RunState::Stopped, None),
        Err(e) => (RunState::Failed, Some(format!("{e:#}"))),
    };
    {
        let mut s = status.lock().expect("status lock");
        s.state = state;
        s.last_error = error;
        s.touch();
        s.write_atomic(&run.status_json())?;
    }
    match result {
        Ok(outcome) => {
            println!("run {}: {outcome:?}", run.id());
            Ok(outcome)
        }
        Err(e) => Err(e),
    }
}

/// Runs the config's kind on its backend, with its precision on this thread.
fn dispatch(ctx: &mut RunContext, source: &mut dyn ClipSource) -> Result<Outcome> {
    let _autocast = autocast(ctx.config.precision());
    let indices = ctx.config.devices.clone();
    crate::with_backend!(ctx.config.backend, |B, device_of| {
        let devices: Vec<_> = indices.iter().map(|&i| device_of(i)).collect();
        match ctx.config.kind {
            RunKind::Pretrain => pretrain::<B>(ctx, source, &devices),
            RunKind::Finetune => finetune::<B>(ctx, source, &devices),
            RunKind::Eval => {
                evaluate_only::<<B as AutodiffBackend>::InnerBackend>(ctx, source, &devices[0])
            }
        }
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}
