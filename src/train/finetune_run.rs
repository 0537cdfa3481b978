//! Fine-tuning run (DESIGN §6): from a pre-training checkpoint (ours or released) or from
//! scratch; AdamW β (0.9, 0.999), weight decay 0.05 except on 1-D parameters, layer decay
//! 0.75, drop path; classification with mixup/CutMix and label smoothing, regression with
//! MSE; evaluation every `artifacts.eval_every` epochs and after the last.

use anyhow::{Context, Result, bail};
use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::attn_artifacts::{ProbedEncoder, write_attention_maps};
use super::classification_loss::{draw_mix, mix_clips, soft_cross_entropy, soft_targets};
use super::clip_source::{ClipBatch, ClipSource};
use super::eval_gather::gather_predictions;
use super::eval_report::{EvalScope, score_predictions};
use super::evaluation::predict;
use super::regression_loss::{mse_loss, value_targets};
use super::run_config::RunConfig;
use super::trainer::{StepStats, Trainer};
use super::worker::{
    LoopHooks, Outcome, RunContext, optimisation_loop, resume_or_start, seed_micro_batch,
    stream_seed,
};
use crate::data::registry::Task;
use crate::distributed::DataShard;
use crate::model::checkpoint::{
    ArchitectureHints, ModelSpec, infer_spec, init_classifier_from_pretrainer, load_classifier,
    read_checkpoint,
};
use crate::model::checkpoint_save::save_classifier;
use crate::model::input_spec::InputSpec;
use crate::model::{ClassifierConfig, SvfapClassifier};

/// The model to start from: the run's latest checkpoint, else `model.init`, else scratch.
fn initial_model<B: Backend>(
    config: &RunConfig,
    cfg: &ClassifierConfig,
    device: &B::Device,
) -> Result<SvfapClassifier<B>> {
    let mut model = SvfapClassifier::new(cfg, config.seed, device);
    let init = &config.model.init;
    if init.is_empty() {
        super::say!("initialised from scratch (seed {})", config.seed);
        return Ok(model);
    }
    let ckpt = read_checkpoint(std::path::Path::new(init)).with_context(|| "model.init")?;
    if ckpt.is_pretrainer() {
        let n = init_classifier_from_pretrainer(&mut model, &ckpt)?;
        super::say!("initialised the encoder from {init} ({n} tensors); fc_norm and head fresh");
        Ok(model)
    } else {
        let spec = infer_spec(&ckpt, &ArchitectureHints::default())?;
        let ModelSpec::Classifier(_) = spec else {
            unreachable!("not a pre-trainer")
        };
        super::say!("initialised from the fine-tuned checkpoint {init}");
        Ok(load_classifier(cfg, &ckpt, device)?)
    }
}

pub fn finetune<B: AutodiffBackend>(
    ctx: &mut RunContext,
    source: &mut dyn ClipSource,
    device: &B::Device,
) -> Result<Outcome> {
    let cfg = ctx.config.classifier_config(ctx.labels.names.len());
    let o = ctx.config.optim.clone();
    let seed = ctx.config.seed;
    let config = ctx.config.clone();
    let (mut trainer, mut state) = resume_or_start::<B, _>(
        ctx,
        source,
        device,
        |path| Ok(load_classifier::<B>(&cfg, &read_checkpoint(path)?, device)?),
        || initial_model::<B>(&config, &cfg, device),
        (o.layer_decay < 1.0).then_some(o.layer_decay),
        cfg.encoder.num_blocks(),
    )?;
    let outputs = cfg.num_outputs;
    let task = ctx.labels.task;
    let [_, _, h, w] = ctx.clip_shape;
    let mut update = |trainer: &mut Trainer<B, SvfapClassifier<B>>,
                      ctx: &RunContext,
                      batches: &[ClipBatch]|
     -> Result<StepStats> {
        let step = trainer.step;
        let world = trainer.world();
        let inputs = batches
            .iter()
            .enumerate()
            .map(|(i, b)| -> Result<(Tensor<B, 5>, Tensor<B, 2>)> {
                let video = ctx.video::<B>(&b.clips, b.size, device);
                if task == Task::Regression {
                    // No mixing for regression (refused by the config's validation).
                    return Ok((video, value_targets::<B>(&b.labels, outputs, device)?));
                }
                let classes = b
                    .labels
                    .iter()
                    .map(|l| {
                        l.class()
                            .with_context(|| format!("label {l:?} is not a class"))
                    })
                    .collect::<Result<Vec<usize>>>()?;
                let micro = world.global_micro(i) as u64;
                let mut rng = StdRng::seed_from_u64(stream_seed(seed, step, micro + 1));
                let mix = draw_mix(o.mixup, o.cutmix, h, w, &mut rng);
                let (video, lambda) = mix_clips(video, mix);
                let targets =
                    soft_targets::<B>(&classes, outputs, o.label_smoothing, lambda, device);
                Ok((video, targets))
            })
            .collect::<Result<Vec<_>>>()?;
        let global: Vec<usize> = (0..inputs.len()).map(|i| world.global_micro(i)).collect();
        Ok(trainer.step(inputs.len(), |m, micro| {
            let (video, targets) = &inputs[micro];
            seed_micro_batch::<B>(device, seed, step, global[micro]);
            let outputs = m.forward(video.clone()).logits;
            let targets = targets.clone();
            match task {
                Task::Classification => soft_cross_entropy(outputs, targets),
                Task::Regression => mse_loss(outputs, targets),
            }
        })?)
    };
    let input = InputSpec {
        dataset: ctx.config.data.dataset.clone(),
        labels: ctx.labels.names.clone(),
        regression: task == Task::Regression,
        stride: ctx.config.data.stride,
        test_clips: ctx.config.data.test_clips,
        ..InputSpec::default()
    };
    let save = |m: &SvfapClassifier<B>, p: &std::path::Path| -> Result<()> {
        Ok(save_classifier(m, Some(&input), p)?)
    };
    // Attention maps of one fixed held-out clip whenever `attn_every` steps have passed
    // (checked after each epoch) and at the end.
    let attn_clip = source.held_out(1)?.into_iter().next().map(|(_, clip)| clip);
    let every = ctx.config.artifacts.attn_every;
    let mut last_attn = 0u64;
    let mut end_of_epoch = |m: &SvfapClassifier<B>,
                            ctx: &mut RunContext,
                            source: &mut dyn ClipSource,
                            epoch: u64,
                            step: u64|
     -> Result<()> {
        let model = m.valid();
        let last_epoch = epoch + 1 == ctx.config.optim.epochs as u64;
        if let Some(clip) = &attn_clip
            && ctx.world.is_root()
            && every > 0
            && (step >= last_attn + every || last_epoch)
        {
            let probed = ProbedEncoder {
                encoder: &model.encoder,
                positions: &model.positions,
            };
            let device = model.fc_norm.gamma.val().device();
            write_attention_maps(
                probed,
                clip,
                step,
                (&ctx.dir.attn_step(step), &ctx.dir.root),
                &device,
            )?;
            last_attn = step;
        }
        let eval_every = ctx.config.artifacts.eval_every;
        if last_epoch || (eval_every > 0 && (epoch + 1).is_multiple_of(eval_every)) {
            evaluate_into_run(&model, ctx, source, epoch, step)?;
        }
        Ok(())
    };
    optimisation_loop(
        ctx,
        source,
        &mut trainer,
        &mut state,
        LoopHooks {
            update: &mut update,
            save: &save,
            end_of_epoch: &mut end_of_epoch,
        },
    )
}

/// Evaluates on the test set, logs the metrics and writes `eval/<dataset>-test.json`.
pub fn evaluate_into_run<B: Backend>(
    model: &SvfapClassifier<B>,
    ctx: &mut RunContext,
    source: &mut dyn ClipSource,
    epoch: u64,
    step: u64,
) -> Result<()> {
    let data = &ctx.config.data;
    let scope = EvalScope {
        dataset: data.dataset.clone(),
        split: "test".into(),
        fold: data.fold,
    };
    // Every rank scores its share of the videos; the predictions are then combined on all.
    let world = ctx.world.clone();
    let before = source.unreadable(true).skips;
    let mine = predict(model, source, ctx.labels.task);
    // A rank whose evaluation failed (an error, not an unreadable video) stops every rank
    // here rather than leaving them waiting in the sum.
    if !world.all_agree(mine.is_ok(), "the evaluation") {
        return Err(mine.err().unwrap_or_else(|| {
            anyhow::anyhow!("evaluation: failed on another process (its log says why)")
        }));
    }
    let unreadable = source.unreadable(true);
    let gathered = gather_predictions(
        &world,
        mine?,
        unreadable.skips - before,
        &source.test_entries(),
        ctx.labels.names.len(),
        ctx.labels.task,
    );
    let skipped = gathered.skipped;
    let total = source.videos(true);
    let listed = if world.size > 1 {
        format!("{} (this process's share)", unreadable.describe(20))
    } else {
        unreadable.describe(20)
    };
    if total > 0 && skipped >= total {
        bail!("evaluation: 0 of {total} test videos could be read:\n{listed}");
    }
    let max_share = ctx.config.data.max_unreadable;
    if skipped as f64 > max_share * total as f64 {
        bail!(
            "evaluation: {skipped} of {total} test videos could not be read, more than data.max_unreadable = {max_share} allows:\n{listed}"
        );
    }
    let mut report = score_predictions(
        &scope,
        ctx.labels.task,
        &ctx.labels.names,
        gathered.predictions,
    )?;
    report.videos_skipped = skipped;
    if !world.is_root() {
        return Ok(());
    }
    for (name, value) in &report.metrics {
        ctx.metrics.log(step, epoch, "test", name, *value)?;
    }
    let m = &report.metrics;
    let headline = match ctx.labels.task {
        Task::Classification => format!("UAR {:.2} WAR {:.2}", m["uar"] * 100.0, m["war"] * 100.0),
        Task::Regression => format!(
            "CCC {:.4} PCC {:.4} ACC {:.4} MSE {:.5}",
            m["ccc"], m["pcc"], m["acc"], m["mse"]
        ),
    };
    let shares = if world.size > 1 {
        let counts: Vec<String> = gathered.per_rank.iter().map(|n| n.to_string()).collect();
        format!(
            "; scored by {} processes: {}",
            world.size,
            counts.join(" + ")
        )
    } else {
        String::new()
    };
    super::say!(
        "eval epoch {epoch}: {headline} ({} videos, {} unreadable skipped{shares})",
        report.predictions.len(),
        report.videos_skipped
    );
    std::fs::create_dir_all(ctx.dir.eval())?;
    report.write(&ctx.dir.eval_file(&data.dataset, "test"))?;
    Ok(())
}

/// An evaluation run: the checkpoint in `model.init` on the test manifest.
pub fn evaluate_only<B: Backend>(
    ctx: &mut RunContext,
    source: &mut dyn ClipSource,
    device: &B::Device,
) -> Result<Outcome> {
    let cfg = ctx.config.classifier_config(ctx.labels.names.len());
    let ckpt =
        read_checkpoint(std::path::Path::new(&ctx.config.model.init)).context("model.init")?;
    let model = load_classifier::<B>(&cfg, &ckpt, device)?;
    // Each rank scores its share of the test videos.
    source.set_shard(DataShard {
        rank: ctx.world.rank,
        world: ctx.world.size,
        accumulation: 1,
    });
    evaluate_into_run(&model, ctx, source, 0, 0)?;
    Ok(Outcome::Finished)
}
