//! The worker process of a run (`svfap-tui run|resume RUN_DIR`): reads the frozen config,
//! installs the stop signals and the heartbeat, runs the run kind on the chosen backend and
//! precision, and records how it ended in `status.json`.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::tensor::backend::AutodiffBackend;

use super::clip_source::{ClipSource, LabelSpace};
use super::finetune_run::{evaluate_only, finetune};
use super::pretrain_run::pretrain;
use super::run_config::{BackendChoice, RunConfig, RunKind};
use super::worker::{HEARTBEAT, Heartbeat, Outcome, RunContext};
use crate::distributed::World;
use crate::distributed::rank_heartbeat::{RankHeartbeat, describe_lost, read_ranks};
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
///
/// Started by an MPI launcher, the worker is one rank of the job (`distributed`): rank 0
/// holds the lock and writes the run folder, the others train their share and write only
/// their heartbeat; a rank that fails ends the whole job (`MPI_Abort`), so none waits.
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
    let world = Rc::new(World::join(Duration::from_secs(config.collective_timeout))?);
    share_cores(&world);
    if !world.is_root() {
        // Rank 0 speaks for the job; the others' output would only repeat it.
        quiet_stdout();
    }
    let result = run_as(&run, require_checkpoint, open_source, config, world.clone());
    if world.size > 1
        && let Err(e) = &result
    {
        // Whenever a rank fails (before training too: the run's lock held by another
        // worker, no checkpoint to resume from), the others wait in a collective for it.
        // A failure in training is in status.json by now (rank 0 wrote it).
        super::say_err!(
            "rank {} of {}: {e:#}; ending the job",
            world.rank,
            world.size
        );
        world.abort(1);
    }
    result
}

fn run_as(
    run: &RunDir,
    require_checkpoint: bool,
    open_source: OpenSource,
    config: RunConfig,
    world: Rc<World>,
) -> Result<Outcome> {
    let root = world.is_root();
    let _lock = root.then(|| RunLock::acquire(run)).transpose()?;
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
        host: crate::session::host::hostname(),
        last_error: None,
        world_size: world.size as u64,
        ranks: Vec::new(),
        ..previous
    }));
    let background_error = Arc::new(Mutex::new(None));
    // Only rank 0 writes status.json (and keeps the reserve that lets it on a full disk).
    let reserve = root.then(|| Reserve::create(run));
    let heartbeat = root.then(|| {
        Heartbeat::start(
            status.clone(),
            run.status_json(),
            HEARTBEAT,
            background_error.clone(),
        )
    });
    let rank_heartbeat = (world.size > 1).then(|| {
        RankHeartbeat::start(&run.root, world.rank, world.size, status.clone(), HEARTBEAT)
    });
    if world.size > 1 {
        watch_for_lost_ranks(run, &world, &status)?;
    }
    capture_panic_messages();
    let work = || -> Result<Outcome> {
        if let Some(Err(e)) = &reserve {
            bail!("{e}");
        }
        let metrics = if root {
            let (metrics, repair) =
                MetricsWriter::open_for_resume(&run.metrics_jsonl(), resume_from)?;
            if let Some(line) = repair.describe(&run.metrics_jsonl()) {
                super::say_err!("{line}");
            }
            metrics
        } else {
            MetricsWriter::discard(&run.metrics_jsonl())
        };
        let (mut source, labels) = open_source(&config)?;
        let mut ctx = RunContext {
            clip_shape: source.clip_shape(),
            dir: run.clone(),
            config: config.clone(),
            labels,
            stop: stop.clone(),
            status: status.clone(),
            metrics,
            world: world.clone(),
            device_sum: None,
            background_error: background_error.clone(),
        };
        dispatch(&mut ctx, source.as_mut())
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|payload| Err(anyhow::anyhow!("{}", panic_message(payload.as_ref()))));
    drop(rank_heartbeat);
    drop(heartbeat);
    if !root {
        // A failed rank returns its error; `run_worker` ends the job.
        if result.is_ok() {
            world.barrier("the end of the run", None);
        }
        return result;
    }
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
        record_final_status(&s, run, reserve.and_then(Result::ok))
    };
    if world.size > 1 && result.is_ok() {
        world.barrier("the end of the run", None);
    }
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

/// NCCL for the gradients of CUDA ranks (features `cuda` and `mpi`), unless
/// `SVFAP_GRADIENT_EXCHANGE=mpi` asks for the host path or NCCL cannot start (said in the log).
fn device_sum(ctx: &RunContext, ordinal: usize) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
    let wanted = ctx.world.size > 1
        && ctx.config.backend == BackendChoice::Cuda
        && std::env::var("SVFAP_GRADIENT_EXCHANGE").as_deref() != Ok("mpi");
    if !wanted {
        return None;
    }
    #[cfg(feature = "cuda")]
    {
        use crate::distributed::DeviceSum;
        use crate::distributed::nccl_reduce::NcclReduce;
        match NcclReduce::join(&ctx.world, ordinal) {
            Ok(nccl) => {
                if ctx.world.is_root() {
                    super::say!("gradients: NCCL all-reduce on the GPUs");
                }
                let sum: Arc<dyn DeviceSum<crate::backend::Cuda>> = Arc::new(nccl);
                return Some(Arc::new(sum));
            }
            Err(e) => {
                super::say_err!(
                    "rank {}: NCCL unavailable ({e:#}); gradients go through host memory and MPI",
                    ctx.world.rank
                );
            }
        }
    }
    let _ = ordinal;
    None
}

/// Runs the run as `processes` processes under mpirun in the foreground (output to this
/// process's), and waits for them.
pub fn run_processes(run: &RunDir, resume: bool, processes: usize) -> Result<()> {
    let mut cmd = super::launch::worker_command(run, resume, processes)?;
    let status = cmd
        .status()
        .with_context(|| format!("cannot start mpirun for {}", run.root.display()))?;
    if !status.success() {
        bail!(
            "{} processes of run {} ended with {status}",
            processes,
            run.id()
        );
    }
    Ok(())
}

/// Several ranks on one host split its cores between their thread pools (burn-flex and our
/// CPU kernels run on rayon's global pool), unless `RAYON_NUM_THREADS` says otherwise.
fn share_cores(world: &World) {
    if world.local_size <= 1 || std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (cores / world.local_size).max(1);
    // Fails only when the pool already exists; it then keeps its size.
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .ok();
}

/// Sends this process's standard output to /dev/null (ranks other than 0).
fn quiet_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto stdout of a descriptor we own; nothing else holds fd 1's state.
        unsafe { libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO) };
    }
}

/// With several ranks: on a collective's timeout, and when mpirun tears the job down
/// (SIGTERM after a rank died), the failure goes to `status.json` with the lost rank named
/// (from the ranks' heartbeats) before the process ends. Rank 0 records it; another rank
/// does only when rank 0 is the one lost.
fn watch_for_lost_ranks(
    run: &RunDir,
    world: &Rc<World>,
    status: &Arc<Mutex<RunStatus>>,
) -> Result<()> {
    let (run, status, rank, size) = (run.clone(), status.clone(), world.rank, world.size);
    // `what` happened; `exited_only`: name only ranks gone from this host (a SIGTERM is also
    // how the workbench asks rank 0 to stop, which is no failure).
    let record = move |what: &str, exited_only: bool| {
        let host = crate::session::host::hostname();
        let silent_after = (3 * HEARTBEAT).as_secs_f64();
        let ranks = read_ranks(&run.root, size);
        let lost = describe_lost(
            &ranks,
            size,
            &host,
            crate::session::now_unix(),
            silent_after,
        );
        let lost = lost.filter(|l| !exited_only || l.contains(" exited ("));
        if exited_only && lost.is_none() {
            return;
        }
        let rank0_lost = lost.as_deref().is_some_and(|l| l.contains("rank 0 ("));
        if rank != 0 && !rank0_lost {
            return;
        }
        let message = match &lost {
            Some(lost) => format!("{what}: {lost}"),
            None => what.to_string(),
        };
        super::say_err!("{message}");
        let write = |s: &mut RunStatus| {
            s.state = RunState::Failed;
            s.last_error = Some(message.clone());
            s.touch();
            s.write_atomic(&run.status_json()).ok();
        };
        if rank == 0 {
            write(&mut status.lock().unwrap_or_else(|p| p.into_inner()));
        } else if let Ok(mut s) = RunStatus::read(&run.status_json()) {
            write(&mut s);
        }
    };
    let record = Arc::new(record);
    let on_timeout = record.clone();
    world.set_timeout_hook(Box::new(move |what| on_timeout(what, false)));
    // mpirun ends the other ranks with SIGTERM (then SIGKILL about a second later) when one
    // dies: look for a rank that is gone, and record it while there is time.
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM])
        .context("cannot install signal handlers")?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            std::thread::sleep(Duration::from_millis(200));
            record("the job was ended by mpirun after a rank was lost", true);
        }
    });
    Ok(())
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

/// Runs the config's kind on its backend, with its precision on this thread, on this rank's
/// device (`devices[local rank]`; every CPU rank runs on the CPU).
fn dispatch(ctx: &mut RunContext, source: &mut dyn ClipSource) -> Result<Outcome> {
    let _autocast = autocast(ctx.config.precision());
    let local = ctx.world.local_rank;
    let index = match ctx.config.devices.get(local) {
        Some(&index) => index,
        None if ctx.config.backend == BackendChoice::Cpu => 0,
        None => bail!(
            "rank {} is process {} on host {}, but `devices` lists {} device(s) for each host",
            ctx.world.rank,
            local + 1,
            ctx.world.hosts[ctx.world.rank],
            ctx.config.devices.len()
        ),
    };
    ctx.device_sum = device_sum(ctx, index);
    crate::with_backend!(ctx.config.backend, |B, device_of| {
        let device = device_of(index);
        match ctx.config.kind {
            RunKind::Pretrain => pretrain::<B>(ctx, source, &device),
            RunKind::Finetune => finetune::<B>(ctx, source, &device),
            RunKind::Eval => {
                evaluate_only::<<B as AutodiffBackend>::InnerBackend>(ctx, source, &device)
            }
        }
    })
}
