//! The run worker (`svfap-tui run <run-dir>`): executes a frozen `run.toml` into its run
//! folder (DESIGN §2–3) — heartbeat in `status.json`, metrics in `metrics.jsonl`,
//! checkpoints, evaluation — and stops cleanly on SIGTERM/SIGINT (finish the step,
//! checkpoint, mark `stopped`). A killed run resumes from its last complete checkpoint
//! with the same schedule, data order and masks.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use super::adamw::AdamW;
use super::checkpoint_state::{TrainingState, write_checkpoint};
use super::clip_source::{ClipBatch, ClipSource, LabelSpace, Unreadable};
use super::crash_point::crash_point;
use super::run_config::RunConfig;
use super::schedule::CosineSchedule;
use super::trainer::{StepStats, Trainer, UpdateRules};
use crate::distributed::{DataShard, DeviceSum, World};
use crate::model::precision::Precision;
use crate::session::periodic::Periodic;
use crate::session::{MetricsWriter, RunDir, RunStatus};

/// Everything a loop needs besides the model and the data.
pub struct RunContext {
    pub dir: RunDir,
    pub config: RunConfig,
    /// Clip shape [3, T, H, W].
    pub clip_shape: [usize; 4],
    /// The task and its output names (classes or regression targets).
    pub labels: LabelSpace,
    pub stop: Arc<AtomicBool>,
    pub status: Arc<Mutex<RunStatus>>,
    pub metrics: MetricsWriter,
    /// The run's processes (one, or the ranks of an MPI job); only rank 0 writes.
    pub world: Rc<World>,
    /// An `Arc<dyn DeviceSum<B::InnerBackend>>` for the run's backend when its ranks sum
    /// gradients on the devices (NCCL on CUDA); None: through the host.
    pub device_sum: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// The first error of the heartbeat thread (status.json unwritable, run folder gone):
    /// the loop fails the run with it at the next step.
    pub background_error: Arc<Mutex<Option<String>>>,
}

/// How often `status.json` is written while a run works (the contract asks for ≤ 10 s).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(2);

/// Keeps `status.json` fresh every `period` until dropped (the TUI shows a run whose
/// heartbeat is old as lost). The first write that fails, and a run folder that disappears
/// (deleted under the worker), go to `error`; it then stops writing, so a deleted run
/// folder is never brought back as a zombie.
pub struct Heartbeat {
    /// Writes until dropped.
    _thread: Periodic,
}

impl Heartbeat {
    pub fn start(
        status: Arc<Mutex<RunStatus>>,
        path: std::path::PathBuf,
        period: Duration,
        error: Arc<Mutex<Option<String>>>,
    ) -> Self {
        let run_toml = path.with_file_name("run.toml");
        let thread = Periodic::start(period, move |last| {
            if last {
                // The worker records its final status itself.
                return false;
            }
            let failure = if run_toml.is_file() {
                let mut s = status.lock().expect("status lock");
                s.touch();
                s.write_atomic(&path).err().map(|e| e.to_string())
            } else {
                Some(format!(
                    "{}: the run folder was deleted or moved while the run worked",
                    run_toml.parent().unwrap_or(&run_toml).display()
                ))
            };
            if let Some(failure) = failure {
                error.lock().expect("error lock").get_or_insert(failure);
                return false;
            }
            true
        });
        Self { _thread: thread }
    }
}

/// Seed for anything random at (step, index): masks, mixing, drop path.
pub(crate) fn stream_seed(seed: u64, step: u64, index: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ step.wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ index.wrapping_mul(0x94D0_49BB_1331_11EB)
}

/// Seeds the backend's random stream (drop path) for global micro-batch `micro` of `step`
/// (`DataShard::global_micro`): the same draws for the same samples whatever the world size.
pub(crate) fn seed_micro_batch<B: Backend>(device: &B::Device, seed: u64, step: u64, micro: usize) {
    B::seed(
        device,
        stream_seed(seed, step, 0).wrapping_add(micro as u64),
    );
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    Stopped,
}

impl RunContext {
    /// Changes the run's status; the heartbeat writes it out within `HEARTBEAT` (writing it
    /// here cost an fsync every step: ~3% of a demo pre-training epoch's wall time).
    pub(crate) fn update_status(&self, f: impl FnOnce(&mut RunStatus)) {
        f(&mut self.status.lock().expect("status lock"));
    }

    /// Fails with the heartbeat's error, if it had one.
    pub(crate) fn check_background(&self) -> Result<()> {
        match self.background_error.lock().expect("error lock").as_ref() {
            Some(e) => bail!("{e}"),
            None => Ok(()),
        }
    }

    pub(crate) fn schedule(&self, steps_per_epoch: u64) -> CosineSchedule {
        let o = &self.config.optim;
        CosineSchedule {
            base: self.config.peak_lr_on(self.world.size),
            end: o.min_lr,
            warmup_start: o.warmup_lr,
            warmup_steps: o.warmup_epochs as u64 * steps_per_epoch,
            total_steps: o.epochs as u64 * steps_per_epoch,
        }
    }

    pub(crate) fn video<B: Backend>(
        &self,
        clips: &[f32],
        n: usize,
        device: &B::Device,
    ) -> Tensor<B, 5> {
        let [c, t, h, w] = self.clip_shape;
        Tensor::from_data(TensorData::new(clips.to_vec(), [n, c, t, h, w]), device)
    }
}

/// The trainer continuing from the run's latest complete checkpoint (model through `load`,
/// optimiser moments, schedule and data position), or starting afresh with `fresh`. With
/// several ranks it also fixes each rank's share of the data, keeps the effective batch of a
/// run resumed on another world size (by its accumulation), and checks that every rank
/// starts from the same weights.
#[allow(clippy::too_many_arguments)]
pub(crate) fn resume_or_start<B: AutodiffBackend, M: AutodiffModule<B>>(
    ctx: &mut RunContext,
    source: &mut dyn ClipSource,
    device: &B::Device,
    load: impl FnOnce(&Path) -> Result<M>,
    fresh: impl FnOnce() -> Result<M>,
    layer_decay: Option<f64>,
    num_blocks: usize,
) -> Result<(Trainer<B, M>, TrainingState)> {
    let o = ctx.config.optim.clone();
    let world = ctx.world.clone();
    let mut optim = AdamW::new(o.betas[0], o.betas[1], 1e-8);
    let (model, mut state) = match super::checkpoint_state::read_latest(&ctx.dir.checkpoints())? {
        Some(latest) => {
            if world.is_root() {
                super::say!(
                    "resuming from {} (step {})",
                    latest.model.display(),
                    latest.state.step
                );
            }
            let model = load(&latest.model)?;
            optim.load_state(latest.optim, device);
            (model, latest.state)
        }
        None => (fresh()?, TrainingState::fresh(ctx.config.seed)),
    };
    let accumulation = accumulation_for(&state, o.accumulation, world.size)?;
    ctx.config.optim.accumulation = accumulation;
    let shard = DataShard {
        rank: world.rank,
        world: world.size,
        accumulation,
    };
    // Where this rank continues its share of the epoch.
    state.position = if state.world_size == world.size as u64 {
        if world.size == 1 {
            state.position
        } else {
            state.rank_positions.get(world.rank).copied().unwrap_or(0)
        }
    } else {
        shard.resume_index(state.epoch_steps, o.batch_size)
    };
    state.world_size = world.size as u64;
    state.accumulation = accumulation as u64;
    source.set_shard(shard);
    if world.size > 1 {
        check_same_weights(&world, &model, "at the start")?;
        if world.is_root() {
            super::say!(
                "{} processes on {}; effective batch = batch {} × {} ranks × accumulation {accumulation} = {}",
                world.size,
                distinct_hosts(&world.hosts),
                o.batch_size,
                world.size,
                shard.effective_batch(o.batch_size)
            );
        }
    }
    let steps_per_epoch = (source.batches_per_epoch() / accumulation) as u64;
    let rules = UpdateRules {
        weight_decay: o.weight_decay,
        layer_decay,
        num_blocks,
        clip_grad: o.clip_grad,
    };
    let mut trainer = Trainer::new(
        model,
        device.clone(),
        optim,
        ctx.schedule(steps_per_epoch),
        rules,
        state.step,
    )
    .with_world(world)
    .with_device_sum(
        ctx.device_sum
            .as_ref()
            .and_then(|any| any.downcast_ref::<Arc<dyn DeviceSum<B::InnerBackend>>>())
            .cloned(),
    );
    if ctx.config.precision() == Precision::F16 {
        trainer.loss_scale = Some(state.loss_scale.unwrap_or_default());
    }
    Ok((trainer, state))
}

/// Micro-batches per rank that keep the run's effective batch on `world` ranks: the
/// config's on a fresh run; on a resumed one, the checkpoint's ranks × accumulation spread
/// over the ranks now (refused when they do not divide it).
fn accumulation_for(state: &TrainingState, configured: usize, world: usize) -> Result<usize> {
    let (ranks, per_rank) = (
        state.world_size.max(1) as usize,
        state.accumulation as usize,
    );
    if per_rank == 0 {
        return Ok(configured);
    }
    let micro_batches = ranks * per_rank;
    if !micro_batches.is_multiple_of(world) {
        bail!(
            "the run was trained with {ranks} process(es) × optim.accumulation {per_rank} = {micro_batches} micro-batches per step; {world} processes cannot keep that effective batch (the number of processes must divide {micro_batches})"
        );
    }
    if micro_batches / world != per_rank {
        super::say!(
            "resumed on {world} process(es) instead of {ranks}: accumulation {} per process keeps the effective batch",
            micro_batches / world
        );
    }
    Ok(micro_batches / world)
}

/// Fails unless every rank holds the same weights (at the start: the same seed or checkpoint;
/// at each checkpoint: the same updates): a 64-bit fingerprint of every parameter's bits per
/// rank, gathered in one all-reduce as four exact 16-bit parts.
pub(crate) fn check_same_weights<B: AutodiffBackend, M: AutodiffModule<B>>(
    world: &World,
    model: &M,
    when: &str,
) -> Result<()> {
    let values = crate::distributed::gradient_buffer::flatten_parameters(model);
    // FNV-1a over the values' bits.
    let fingerprint = values.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, v| {
        (h ^ v.to_bits() as u64).wrapping_mul(0x0100_0000_01B3)
    });
    let mut parts = vec![0f32; 4 * world.size];
    for (i, part) in parts[4 * world.rank..4 * world.rank + 4]
        .iter_mut()
        .enumerate()
    {
        *part = ((fingerprint >> (16 * i)) & 0xFFFF) as f32;
    }
    world.all_reduce_sum(&mut parts, &format!("the weight check {when}"));
    let of = |rank: usize| -> u64 {
        (0..4).fold(0, |f, i| f | ((parts[4 * rank + i] as u64) << (16 * i)))
    };
    if let Some(other) = (1..world.size).find(|&r| of(r) != of(0)) {
        bail!(
            "rank {other} holds other weights than rank 0 {when} (fingerprints {:016x} and {:016x}): every rank must start from the same seed or checkpoint and apply the same updates",
            of(other),
            of(0)
        );
    }
    Ok(())
}

/// "host-a (2 ranks), host-b (2 ranks)".
fn distinct_hosts(hosts: &[String]) -> String {
    crate::distributed::world::ranks_per_host(hosts.iter().map(String::as_str))
        .iter()
        .map(|(h, n)| format!("{h} ({n} rank{})", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every rank's `position` (index into its share of the epoch), by rank: one all-reduce with
/// a slot per rank, each position as two exact 16-bit halves.
fn gather_positions(world: &World, position: u64, step: u64) -> Vec<u64> {
    let mut slots = vec![0f32; 2 * world.size];
    slots[2 * world.rank] = (position >> 16) as f32;
    slots[2 * world.rank + 1] = (position & 0xFFFF) as f32;
    world.all_reduce_sum(&mut slots, &format!("the checkpoint of step {step}"));
    slots
        .chunks(2)
        .map(|c| ((c[0] as u64) << 16) | c[1] as u64)
        .collect()
}

/// What an epoch's reading of the training data came to.
struct UnreadableCheck<'a> {
    skipped: u64,
    attempted: u64,
    steps_in_epoch: u64,
    /// The epoch was read from its start (not resumed mid-way).
    from_start: bool,
    step_clips: usize,
    max_share: f64,
    list: &'a Unreadable,
}

/// Fails a run that has nothing (or too little) to learn from, with the unreadable files.
fn check_training_data(c: &UnreadableCheck) -> Result<()> {
    if c.steps_in_epoch == 0 && c.from_start && c.attempted > 0 {
        let readable = c.attempted.saturating_sub(c.skipped);
        if readable == 0 {
            bail!(
                "no readable training clip: all {} training videos could not be read:\n{}",
                c.attempted,
                c.list.describe(20)
            );
        }
        bail!(
            "only {readable} of {} training videos could be read, fewer than one step ({} clips):\n{}",
            c.attempted,
            c.step_clips,
            c.list.describe(20)
        );
    }
    if c.attempted > 0 && c.skipped as f64 > c.max_share * c.attempted as f64 {
        bail!(
            "{} of {} training videos ({:.1}%) could not be read, more than data.max_unreadable = {} allows; fix or remove them, or raise data.max_unreadable:\n{}",
            c.skipped,
            c.attempted,
            100.0 * c.skipped as f64 / c.attempted as f64,
            c.max_share,
            c.list.describe(20)
        );
    }
    Ok(())
}

/// Drives the optimisation loop shared by pre-training and fine-tuning: resumable epochs,
/// metrics, status, checkpoints, stop requests. `update` consumes the micro-batches of one
/// step; `save` writes the model; `end_of_epoch` evaluates.
pub(crate) struct LoopHooks<'h, B: AutodiffBackend, M: AutodiffModule<B>> {
    pub update: &'h mut UpdateHook<'h, B, M>,
    pub save: &'h dyn Fn(&M, &Path) -> Result<()>,
    pub end_of_epoch: &'h mut EndOfEpochHook<'h, M>,
}

/// One step from its micro-batches.
pub(crate) type UpdateHook<'h, B, M> =
    dyn FnMut(&mut Trainer<B, M>, &RunContext, &[ClipBatch]) -> Result<StepStats> + 'h;

/// After each epoch: (model, context, data, epoch, step).
pub(crate) type EndOfEpochHook<'h, M> =
    dyn FnMut(&M, &mut RunContext, &mut dyn ClipSource, u64, u64) -> Result<()> + 'h;

pub(crate) fn optimisation_loop<B: AutodiffBackend, M: AutodiffModule<B>>(
    ctx: &mut RunContext,
    source: &mut dyn ClipSource,
    trainer: &mut Trainer<B, M>,
    state: &mut TrainingState,
    hooks: LoopHooks<B, M>,
) -> Result<Outcome> {
    let o = ctx.config.optim.clone();
    let accumulation = o.accumulation;
    let steps_per_epoch = (source.batches_per_epoch() / accumulation) as u64;
    if steps_per_epoch == 0 {
        bail!(
            "the training set is smaller than one step ({} clips)",
            o.batch_size * accumulation
        );
    }
    let total_steps = o.epochs as u64 * steps_per_epoch;
    ctx.update_status(|s| {
        s.total_steps = total_steps;
        s.total_epochs = o.epochs as u64;
    });
    let save = hooks.save;
    let world = ctx.world.clone();
    // Every rank comes here at the same steps; rank 0 writes, with every rank's position.
    let checkpoint =
        |ctx: &RunContext, trainer: &Trainer<B, M>, state: &TrainingState| -> Result<()> {
            let mut state = state.clone();
            if world.size > 1 {
                let when = format!("at the checkpoint of step {}", state.step);
                check_same_weights(&world, trainer.model(), &when)?;
                state.rank_positions = gather_positions(&world, state.position, state.step);
                state.position = state.rank_positions[0];
            }
            if !world.is_root() {
                return Ok(());
            }
            let keep = ctx.config.artifacts.keep_last;
            write_checkpoint(
                &ctx.dir.checkpoints(),
                |p| save(trainer.model(), p),
                &trainer.optim.state(),
                &state,
                keep,
            )
        };
    let mut eta_clock = super::eta_clock::EtaClock::default();
    let mut shown_rate = super::throughput_window::ThroughputWindow::default();
    let resumed_at = state.step;
    let max_unreadable = ctx.config.data.max_unreadable;
    while state.epoch < o.epochs as u64 {
        let epoch = state.epoch;
        let epoch_start = state.position;
        let skips_before = source.unreadable(false).skips;
        let mut skips_reported = 0u64;
        let mut steps_in_epoch = 0u64;
        let mut cut_short = false;
        let mut batches = source.epoch_batches(epoch, state.position);
        loop {
            // A step's wall time is the wait for its batches plus the update; the share spent
            // waiting says whether the loader keeps up (0 when prefetching hides decoding).
            let waiting = Instant::now();
            let mut step_batches = Vec::with_capacity(accumulation);
            while step_batches.len() < accumulation {
                match batches.next() {
                    Some(batch) => step_batches.push(batch?),
                    None => break,
                }
            }
            // A rank that ran out of samples (unreadable ones replaced from its share) ends
            // the epoch for all: every rank takes the same number of steps.
            if !world.all_agree(step_batches.len() == accumulation, "the data check") {
                break;
            }
            let data_wait = waiting.elapsed().as_secs_f64();
            // The first steps on a GPU backend compile and autotune their kernels (minutes
            // when the caches are cold): say so instead of looking hung.
            let first = state.step == resumed_at;
            if first && ctx.config.backend.is_cubecl() {
                ctx.update_status(|s| s.activity = Some("compiling kernels".into()));
            }
            let stats = (hooks.update)(trainer, ctx, &step_batches)?;
            if first {
                ctx.update_status(|s| s.activity = None);
            }
            let step_seconds = waiting.elapsed().as_secs_f64().max(1e-9);
            let clips: usize = step_batches.iter().map(|b| b.size).sum::<usize>() * world.size;
            let skipped: u64 = step_batches.iter().map(|b| b.skipped).sum();
            state.step = trainer.step;
            state.position = step_batches.last().map_or(state.position, |b| b.position);
            state.skipped_samples += skipped;
            state.loss_scale = trainer.loss_scale;
            state.epoch_steps += 1;
            skips_reported += skipped;
            steps_in_epoch += 1;
            let throughput = clips as f64 / step_seconds;
            let step = state.step;
            let eta = eta_clock.observe(Instant::now(), step, total_steps);
            for (name, value) in [
                ("loss", stats.loss),
                ("lr", stats.lr),
                ("grad_norm", stats.grad_norm),
                ("clips_per_s", throughput),
                ("step_seconds", step_seconds),
                ("data_wait_seconds", data_wait),
            ] {
                ctx.metrics.log(step, epoch, "train", name, value)?;
            }
            if world.size > 1 {
                ctx.metrics.log(
                    step,
                    epoch,
                    "train",
                    "allreduce_seconds",
                    stats.exchange_seconds,
                )?;
            }
            if let Some(scale) = trainer.loss_scale {
                ctx.metrics
                    .log(step, epoch, "train", "loss_scale", scale.scale)?;
            }
            if stats.skipped {
                ctx.metrics
                    .log(step, epoch, "train", "overflow_skipped_step", 1.0)?;
            }
            if skipped > 0 {
                ctx.metrics.log(
                    step,
                    epoch,
                    "train",
                    "skipped_samples",
                    state.skipped_samples as f64,
                )?;
            }
            ctx.update_status(|s| {
                s.step = step;
                s.epoch = epoch;
                s.throughput = shown_rate.observe(clips, step_seconds);
                s.eta_seconds = eta;
            });
            super::say!(
                "step {step}/{total_steps} epoch {epoch} loss {:.5} lr {:.3e} grad_norm {:.3} {throughput:.1} clips/s, {:.0}% waiting for data",
                stats.loss,
                stats.lr,
                stats.grad_norm,
                100.0 * data_wait / step_seconds
            );
            crash_point("step", step);
            ctx.check_background()?;
            // A large set fails early (with the list, below) rather than after an epoch.
            let consumed = state.position.saturating_sub(epoch_start);
            let too_many =
                consumed >= 1000 && skips_reported as f64 > max_unreadable * consumed as f64;
            let stop_here = ctx.stop.load(Ordering::Relaxed);
            // A stop request reaches one rank (the signal is sent to rank 0): all stop.
            let [too_many, stop] = world.any_of([too_many, stop_here], "the stop check");
            if too_many {
                cut_short = true;
                break;
            }
            if step.is_multiple_of(ctx.config.artifacts.checkpoint_every) || stop {
                checkpoint(ctx, trainer, state)?;
            }
            if stop {
                return Ok(Outcome::Stopped);
            }
        }
        drop(batches);
        let unreadable = source.unreadable(false);
        let epoch_skips = (unreadable.skips - skips_before) as u64;
        // Skips after the epoch's last full batch belong to the count too.
        if epoch_skips > skips_reported {
            state.skipped_samples += epoch_skips - skips_reported;
            ctx.metrics.log(
                state.step,
                epoch,
                "train",
                "skipped_samples",
                state.skipped_samples as f64,
            )?;
        }
        let attempted = if cut_short {
            state.position - epoch_start
        } else {
            (source.videos(false) as u64).saturating_sub(epoch_start)
        };
        check_training_data(&UnreadableCheck {
            skipped: epoch_skips,
            attempted,
            steps_in_epoch,
            from_start: epoch_start == 0,
            step_clips: o.batch_size * accumulation,
            max_share: max_unreadable,
            list: &unreadable,
        })?;
        state.epoch += 1;
        state.position = 0;
        state.epoch_steps = 0;
        // Every rank evaluates its share of the test set; artifacts are rank 0's, and the
        // others wait for them (however long they take) and go on together.
        (hooks.end_of_epoch)(trainer.model(), ctx, source, epoch, state.step)?;
        world.barrier("the end of an epoch", None);
    }
    checkpoint(ctx, trainer, state)?;
    Ok(Outcome::Finished)
}
