//! Training steps: the loss falls, and stopping at a checkpoint then resuming gives
//! bit-for-bit the same weights as an uninterrupted run.

mod common;

use burn::prelude::*;
use burn::tensor::Distribution;
use common::*;
use rand::SeedableRng;
use svfap_tui::backend::CpuTrain;
use svfap_tui::model::checkpoint::{load_pretrainer, read_checkpoint};
use svfap_tui::model::checkpoint_save::save_pretrainer;
use svfap_tui::model::{PretrainerConfig, SvfapPretrainer, TubeMask, preset};
use svfap_tui::train::adamw::AdamW;
use svfap_tui::train::checkpoint_state::{TrainingState, read_latest, write_checkpoint};
use svfap_tui::train::schedule::CosineSchedule;
use svfap_tui::train::trainer::{Trainer, UpdateRules};

type PreTrainer = Trainer<CpuTrain, SvfapPretrainer<CpuTrain>>;

fn config() -> PretrainerConfig {
    PretrainerConfig {
        encoder: tiny_encoder(),
        decoder: preset("test").unwrap().decoder,
        mask_ratio: 0.75,
        fuse_multiscale: true,
        target: Default::default(),
    }
}

fn trainer(model: SvfapPretrainer<CpuTrain>, step: u64) -> PreTrainer {
    let schedule = CosineSchedule {
        base: 3e-3,
        end: 1e-5,
        warmup_start: 1e-5,
        warmup_steps: 2,
        total_steps: 12,
    };
    let rules = UpdateRules {
        weight_decay: 0.05,
        layer_decay: None,
        num_blocks: 6,
        clip_grad: 1.0,
    };
    Trainer::new(
        model,
        Default::default(),
        AdamW::new(0.9, 0.95, 1e-8),
        schedule,
        rules,
        step,
    )
}

/// A fixed small "dataset": two batches that alternate, masks drawn from (seed, step).
fn batch(step: u64) -> (Tensor<CpuTrain, 5>, Vec<TubeMask>) {
    let e = tiny_encoder();
    <CpuTrain as Backend>::seed(&Default::default(), step % 2);
    let video = Tensor::random(
        [2, 3, e.frames, e.img_size, e.img_size],
        Distribution::Normal(0.0, 1.0),
        &Default::default(),
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(1000 + step);
    let masks = (0..2)
        .map(|_| TubeMask::random(e.spatial_len(), 12, &mut rng))
        .collect();
    (video, masks)
}

fn run_steps(t: &mut PreTrainer, until: u64) -> Vec<f64> {
    let mut losses = vec![];
    while t.step < until {
        let (video, masks) = batch(t.step);
        let stats = t.step(2, |m, i| {
            let half = video.clone().narrow(0, i, 1);
            m.loss(half, &masks[i..i + 1]).loss
        });
        losses.push(stats.unwrap().loss);
    }
    losses
}

fn params(model: &SvfapPretrainer<CpuTrain>) -> Vec<f32> {
    let mut all = vec![];
    for block in &model.decoder.blocks {
        all.extend(
            block
                .attn
                .qkv
                .weight
                .val()
                .into_data()
                .to_vec::<f32>()
                .unwrap(),
        );
    }
    all.extend(
        model
            .encoder
            .patch_embed
            .proj
            .weight
            .val()
            .into_data()
            .to_vec::<f32>()
            .unwrap(),
    );
    all.extend(model.mask_token.val().into_data().to_vec::<f32>().unwrap());
    all
}

/// The tests of this file train one at a time: two trainings sharing the CPU thread pool at
/// once made a run's float sums differ in the last bits (3 of 12 parallel runs of this file
/// failed the bit-for-bit check; 0 of 8 serial ones). A training process trains alone.
static ONE_TRAINING_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn pretraining_loss_falls_on_a_fixed_set() {
    let _alone = ONE_TRAINING_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut t = trainer(SvfapPretrainer::new(&config(), 0, &Default::default()), 0);
    let losses = run_steps(&mut t, 12);
    let first = (losses[0] + losses[1]) / 2.0;
    let last = (losses[10] + losses[11]) / 2.0;
    assert!(last < first * 0.95, "loss did not fall: {losses:?}");
}

#[test]
fn resuming_from_a_checkpoint_is_bit_for_bit() {
    let _alone = ONE_TRAINING_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("svfap-resume-{}", std::process::id()));
    let mut straight = trainer(SvfapPretrainer::new(&config(), 3, &Default::default()), 0);
    run_steps(&mut straight, 6);

    let mut first = trainer(SvfapPretrainer::new(&config(), 3, &Default::default()), 0);
    run_steps(&mut first, 3);
    let state = TrainingState {
        format: 1,
        step: first.step,
        epoch: 0,
        position: 3,
        seed: 3,
        skipped_samples: 0,
        ..TrainingState::fresh(3)
    };
    let model = first.model().clone();
    write_checkpoint(
        &dir,
        |p| Ok(save_pretrainer(&model, p)?),
        &first.optim.state(),
        &state,
        2,
    )
    .unwrap();
    drop(first);

    let latest = read_latest(&dir).unwrap().unwrap();
    let model = load_pretrainer::<CpuTrain>(
        &config(),
        &read_checkpoint(&latest.model).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let mut resumed = trainer(model, latest.state.step);
    resumed.optim.load_state(latest.optim, &Default::default());
    run_steps(&mut resumed, 6);

    assert_eq!(params(resumed.model()), params(straight.model()));
}
