//! Pre-training run (DESIGN §6): MAE on tube-masked clips, per-step cosine schedule, AdamW
//! β (0.9, 0.95), weight decay 0.05 except on 1-D parameters, no layer decay.

use anyhow::Result;
use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::attn_artifacts::{ProbedEncoder, write_attention_maps};
use super::clip_source::{ClipBatch, ClipSource};
use super::recon_artifacts::write_reconstructions;
use super::trainer::{StepStats, Trainer};
use super::worker::{
    LoopHooks, Outcome, RunContext, optimisation_loop, resume_or_start, seed_micro_batch,
    stream_seed,
};
use crate::model::checkpoint::{load_pretrainer, read_checkpoint};
use crate::model::checkpoint_save::save_pretrainer;
use crate::model::{SvfapPretrainer, TubeMask};

pub fn pretrain<B: AutodiffBackend>(
    ctx: &mut RunContext,
    source: &mut dyn ClipSource,
    device: &B::Device,
) -> Result<Outcome> {
    let cfg = ctx.config.pretrainer_config();
    let seed = ctx.config.seed;
    let (mut trainer, mut state) = resume_or_start::<B, _>(
        ctx,
        source,
        device,
        |path| Ok(load_pretrainer::<B>(&cfg, &read_checkpoint(path)?, device)?),
        || Ok(SvfapPretrainer::new(&cfg, seed, device)),
        None,
        cfg.encoder.num_blocks(),
    )?;
    let (spatial, masked) = (cfg.encoder.spatial_len(), cfg.masked_per_slice());
    let mut update = |trainer: &mut Trainer<B, SvfapPretrainer<B>>,
                      ctx: &RunContext,
                      batches: &[ClipBatch]|
     -> Result<StepStats> {
        let step = trainer.step;
        let world = trainer.world();
        let inputs: Vec<(Tensor<B, 5>, Vec<TubeMask>)> = batches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                // Masks depend only on (seed, step, micro-batch of the whole step): a resumed
                // run draws the same, and so does a run on another number of processes.
                let micro = world.global_micro(i) as u64;
                let mut rng = StdRng::seed_from_u64(stream_seed(seed, step, micro + 1));
                let masks = (0..b.size)
                    .map(|_| TubeMask::random(spatial, masked, &mut rng))
                    .collect();
                (ctx.video::<B>(&b.clips, b.size, device), masks)
            })
            .collect();
        let global: Vec<usize> = (0..inputs.len()).map(|i| world.global_micro(i)).collect();
        Ok(trainer.step(inputs.len(), |m, micro| {
            let (video, masks) = &inputs[micro];
            seed_micro_batch::<B>(device, seed, step, global[micro]);
            m.loss(video.clone(), masks).loss
        })?)
    };
    let save =
        |m: &SvfapPretrainer<B>, p: &std::path::Path| -> Result<()> { Ok(save_pretrainer(m, p)?) };
    // Reconstructions of fixed held-out clips after every epoch in which `recon_every`
    // steps passed, and at the end.
    let held_out = source.held_out(ctx.config.artifacts.recon_samples.max(1))?;
    let every = ctx.config.artifacts.recon_every;
    let mut last_recon = 0u64;
    // Attention maps of the first held-out clip, whole (unmasked), at `attn_every`.
    let attn_every = ctx.config.artifacts.attn_every;
    let mut last_attn = 0u64;
    let mut end_of_epoch = |m: &SvfapPretrainer<B>,
                            ctx: &mut RunContext,
                            _: &mut dyn ClipSource,
                            epoch: u64,
                            step: u64|
     -> Result<()> {
        // Artifacts are rank 0's.
        if !ctx.world.is_root() {
            return Ok(());
        }
        let last_epoch = epoch + 1 == ctx.config.optim.epochs as u64;
        let model = m.valid();
        if every > 0 && (step >= last_recon + every || last_epoch) {
            let shown = ctx.config.artifacts.recon_samples.min(held_out.len());
            write_reconstructions(&model, &held_out[..shown], step, &ctx.dir)?;
            last_recon = step;
        }
        if let Some((_, clip)) = held_out.first()
            && attn_every > 0
            && (step >= last_attn + attn_every || last_epoch)
        {
            let probed = ProbedEncoder {
                encoder: &model.encoder,
                positions: &model.encoder_positions,
            };
            let device = model.mask_token.val().device();
            write_attention_maps(
                probed,
                clip,
                step,
                (&ctx.dir.attn_step(step), &ctx.dir.root),
                &device,
            )?;
            last_attn = step;
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
