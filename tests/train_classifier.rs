//! Fine-tuning steps through the real trainer (AdamW, layer decay, soft cross-entropy):
//! a classifier must be able to learn at all — memorise a few distinct clips.

mod common;

use burn::prelude::*;
use burn::tensor::Distribution;
use common::*;
use svfap_tui::backend::CpuTrain;
use svfap_tui::model::{ClassifierConfig, SvfapClassifier};
use svfap_tui::train::adamw::AdamW;
use svfap_tui::train::classification_loss::{soft_cross_entropy, soft_targets};
use svfap_tui::train::schedule::CosineSchedule;
use svfap_tui::train::trainer::{Trainer, UpdateRules};

/// The tiny encoder under a 4-class head.
fn four_class_config() -> ClassifierConfig {
    ClassifierConfig {
        num_outputs: 4,
        head_activation: Default::default(),
        fuse_multiscale: false,
        encoder: tiny_encoder(),
    }
}

#[test]
fn a_classifier_memorises_four_clips() {
    let device = Default::default();
    let config = four_class_config();
    let encoder = config.encoder.clone();
    let model = SvfapClassifier::<CpuTrain>::new(&config, 0, &device);
    let steps = 100;
    let schedule = CosineSchedule {
        base: 5e-3,
        end: 1e-4,
        warmup_start: 1e-5,
        warmup_steps: 5,
        total_steps: steps,
    };
    let rules = UpdateRules {
        weight_decay: 0.05,
        layer_decay: Some(0.75),
        num_blocks: encoder.num_blocks(),
        clip_grad: 0.0,
    };
    let mut trainer = Trainer::new(
        model,
        device,
        AdamW::new(0.9, 0.999, 1e-8),
        schedule,
        rules,
        0,
    );
    <CpuTrain as Backend>::seed(&device, 5);
    // Four clips that differ as wholes (brightness), not only in i.i.d. noise that mean
    // pooling over tokens would average away.
    let noise = Tensor::<CpuTrain, 5>::random(
        [4, 3, encoder.frames, encoder.img_size, encoder.img_size],
        Distribution::Normal(0.0, 0.5),
        &device,
    );
    let levels = Tensor::<CpuTrain, 1>::from_floats([-1.5, -0.5, 0.5, 1.5], &device);
    let clips = noise + levels.reshape([4, 1, 1, 1, 1]);
    let targets = soft_targets::<CpuTrain>(&[0, 1, 2, 3], 4, 0.0, 1.0, &device);
    let mut losses = vec![];
    for _ in 0..steps {
        let stats = trainer
            .step(1, |m, _| {
                soft_cross_entropy(m.forward(clips.clone()).logits, targets.clone())
            })
            .unwrap();
        losses.push(stats.loss);
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(
        (first - 4f64.ln()).abs() < 0.05,
        "starts at chance: {first}"
    );
    assert!(last < 0.1, "memorised: {first} → {last} ({losses:?})");
}

/// Gradient accumulation: two micro-batches of 2 clips make the step one batch of 4 makes
/// (the loss of each micro-batch is scaled by ½, so the gradients sum to the whole batch's).
#[test]
fn two_accumulated_half_batches_step_as_the_whole_batch() {
    let device = Default::default();
    let config = four_class_config();
    let encoder = config.encoder.clone();
    let trainer = || {
        Trainer::new(
            SvfapClassifier::<CpuTrain>::new(&config, 0, &device),
            device,
            AdamW::new(0.9, 0.999, 1e-8),
            CosineSchedule {
                base: 1e-3,
                end: 1e-3,
                warmup_start: 1e-3,
                warmup_steps: 0,
                total_steps: 10,
            },
            UpdateRules {
                weight_decay: 0.05,
                layer_decay: Some(0.75),
                num_blocks: encoder.num_blocks(),
                clip_grad: 0.0,
            },
            0,
        )
    };
    <CpuTrain as Backend>::seed(&device, 5);
    let clips = Tensor::<CpuTrain, 5>::random(
        [4, 3, encoder.frames, encoder.img_size, encoder.img_size],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let targets = soft_targets::<CpuTrain>(&[0, 1, 2, 3], 4, 0.1, 1.0, &device);
    let mut whole = trainer();
    let mut halves = trainer();
    for _ in 0..3 {
        let a = whole
            .step(1, |m, _| {
                soft_cross_entropy(m.forward(clips.clone()).logits, targets.clone())
            })
            .unwrap();
        let b = halves
            .step(2, |m, micro| {
                let part = |t: &Tensor<CpuTrain, 5>| t.clone().narrow(0, 2 * micro, 2);
                let y = targets.clone().narrow(0, 2 * micro, 2);
                soft_cross_entropy(m.forward(part(&clips)).logits, y)
            })
            .unwrap();
        assert!(
            (a.loss - b.loss).abs() < 1e-5,
            "loss {} vs {}",
            a.loss,
            b.loss
        );
        assert!(
            (a.grad_norm - b.grad_norm).abs() < 1e-4 * a.grad_norm.max(1.0),
            "gradient norm {} vs {}",
            a.grad_norm,
            b.grad_norm
        );
    }
}

/// The head weight is a parameter of its own from the start: the first backward gives it a
/// gradient (its init scaling once kept a multiply in the graph, and the first step's head
/// gradient went to the unscaled initial tensor instead).
#[test]
fn the_first_backward_reaches_the_head_weight() {
    let device = Default::default();
    let config = four_class_config();
    let encoder = config.encoder.clone();
    let model = SvfapClassifier::<CpuTrain>::new(&config, 0, &device);
    let clips = Tensor::<CpuTrain, 5>::random(
        [2, 3, encoder.frames, encoder.img_size, encoder.img_size],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let targets = soft_targets::<CpuTrain>(&[0, 1], 4, 0.0, 1.0, &device);
    let loss = soft_cross_entropy(model.forward(clips).logits, targets);
    let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
    let head = grads.get::<svfap_tui::backend::Cpu, 2>(model.head.weight.id);
    assert!(head.is_some(), "no gradient for the head weight");
}
