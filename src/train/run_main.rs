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
use crate::session::{
    MetricsWriter, ResumePoint, RunDir, RunLock, RunState, RunStatus, overwrite_in_place,
    write_atomic,
};

/// Opens a run's data: the clip source and what its labels mean.
pub type OpenSource<'a> = &'a dyn Fn(&RunConfig) -> Result<(Box<dyn ClipSource>, LabelSpace)>;

/// `svfap-tui run|resume <run-dir>`: runs the frozen config to the end (or to a stop
/// request), resuming from the latest complete checkpoint when there is one.
///
/// The worker holds the run's lock for its whole life (a second worker is refused naming
/// this one), and records how it ended in `status.json` whatever happened: an error, a
/// panic, or a full disk (the first I/O error is the one reported; a small reserve file is
/// given back to make room for that last write).
pub fn run_worker(
    dir: &Path,
    require_checkpoint: bool,
    open_source: OpenSource,
) -> Result<Outcome> {
    let run = RunDir::new(dir);
    if !run.run_toml().is_file() {
        bail!("{}: no run.toml (not a run folder)", dir.display());
    }
    let _lock = RunLock::acquire(&run)?;
    let config = RunConfig::load(&run.run_toml(), &[])?;
    let latest = super::checkpoint_state::read_latest(&run.checkpoints())?;
    if require_checkpoint && latest.is_none() {
        bail!(
            "{}: no complete checkpoint to resume from",
            run.checkpoints().display()
        );
    }
    for reason in latest.iter().flat_map(|l| &l.passed_over) {
        super::say_err!("passed over a damaged checkpoint for an older complete one: {reason}");
    }
    let resume_from = latest.map(|l| ResumePoint {
        step: l.state.step,
        written: l.written,
    });
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .context("cannot install signal handlers")?;
    }
    let previous = RunStatus::read(&run.status_json()).unwrap_or_default();
    let status = Arc::new(Mutex::new(RunStatus {
        state: RunState::Running,
        pid: Some(std::process::id()),
        host: crate::session::launcher::hostname(),
        last_error: None,
        ..previous
    }));
    let reserve = Reserve::create(&run);
    let background_error = Arc::new(Mutex::new(None));
    let heartbeat = Heartbeat::start(
        status.clone(),
        run.status_json(),
        HEARTBEAT,
        background_error.clone(),
    );
    capture_panic_messages();
    let work = || -> Result<Outcome> {
        reserve.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        let (metrics, repair) = MetricsWriter::open_for_resume(&run.metrics_jsonl(), resume_from)?;
        if let Some(line) = repair.describe(&run.metrics_jsonl()) {
            super::say_err!("{line}");
        }
        let (mut source, labels) = open_source(&config)?;
        let mut ctx = RunContext {
            clip_shape: source.clip_shape(),
            dir: run.clone(),
            config: config.clone(),
            labels,
            stop: stop.clone(),
            status: status.clone(),
            metrics,
            background_error: background_error.clone(),
        };
        dispatch(&mut ctx, source.as_mut())
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|payload| Err(anyhow::anyhow!("{}", panic_message(payload.as_ref()))));
    drop(heartbeat);
    let (state, error) = match &result {
        Ok(Outcome::Finished) => (RunState::Finished, None),
        Ok(Outcome::Stopped) => (RunState::Stopped, None),
        Err(e) => (RunState::Failed, Some(format!("{e:#}"))),
    };
    let recorded = {
        let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
        s.state = state;
        s.last_error = error;
        s.touch();
        record_final_status(&s, &run, reserve.ok())
    };
    match result {
        Ok(outcome) => {
            recorded?;
            super::say!("run {}: {outcome:?}", run.id());
            Ok(outcome)
        }
        Err(e) => {
            if let Err(status_error) = recorded {
                super::say_err!("{status_error}");
            }
            Err(e)
        }
    }
}

/// Writes the final status; on a full disk gives back the reserve and tries again, then
/// overwrites the file in place (which needs no new directory entry).
fn record_final_status(
    status: &RunStatus,
    run: &RunDir,
    reserve: Option<Reserve>,
) -> Result<(), crate::session::SessionError> {
    let first = status.write_atomic(&run.status_json());
    drop(reserve);
    if first.is_ok() || !run.root.is_dir() {
        return first;
    }
    status.write_atomic(&run.status_json()).or_else(|_| {
        let text = serde_json::to_string_pretty(status).expect("serialisable");
        overwrite_in_place(&run.status_json(), text.as_bytes())
    })
}

/// A small file of zeros in the run folder, deleted when the run ends: on a full disk,
/// deleting it frees the room to record the failure.
struct Reserve(std::path::PathBuf);

impl Reserve {
    const BYTES: usize = 256 << 10;

    fn create(run: &RunDir) -> Result<Self, crate::session::SessionError> {
        let path = run.root.join(".reserve");
        write_atomic(&path, &vec![0u8; Self::BYTES])?;
        Ok(Self(path))
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

thread_local! {
    /// The message and place of this thread's last panic, for the run's `last_error`.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Keeps the default panic report (to log.txt) and remembers where the panic happened.
/// Installed once per process (a cross-validation runs several workers in one).
fn capture_panic_messages() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(install_panic_hook);
}

fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = payload_text(info.payload());
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("panic: {message}{place}")));
        default(info);
    }));
}

/// The panic that unwound out of the run: its message and place when the hook saw it.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| format!("panic: {}", payload_text(payload)))
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
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
