//! On a backend other than the two CPU ones (here autodiff with a different checkpointing
//! strategy, standing in for CUDA) the model runs on burn's own ops instead of the fused
//! CPU kernels. Both paths must compute the same losses and gradients.

use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
use burn::backend::{Autodiff, Flex};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;
use svfap_tui::backend::CpuTrain;
use svfap_tui::model::{
    ClassifierConfig, PretrainerConfig, SvfapClassifier, SvfapPretrainer, TubeMask, preset,
};
use svfap_tui::train::adamw::grad_norm;

type BurnOps = Autodiff<Flex, BalancedCheckpointing>;

/// Two fixed pseudo-random clips, the same values on every backend.
fn clips<B: Backend>(e: &svfap_tui::model::EncoderConfig) -> Tensor<B, 5> {
    let values: Vec<f32> = (0..2 * e.in_chans * e.frames * e.img_size * e.img_size)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 1.5)
        .collect();
    let shape = [2, e.in_chans, e.frames, e.img_size, e.img_size];
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

/// (loss, global gradient norm) of one pre-training step.
fn pretrain_step<B: AutodiffBackend>(config: &PretrainerConfig, video: Tensor<B, 5>) -> (f32, f64) {
    let model = SvfapPretrainer::<B>::new(config, 7, &Default::default());
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let masks: Vec<TubeMask> = (0..2)
        .map(|_| {
            TubeMask::random(
                config.encoder.spatial_len(),
                config.masked_per_slice(),
                &mut rng,
            )
        })
        .collect();
    let loss = model.loss(video, &masks).loss;
    let value = loss.clone().into_scalar().elem::<f32>();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (value, grad_norm(&model, &grads))
}

/// (loss, global gradient norm) of one fine-tuning step, and the pooled features.
fn finetune_step<B: AutodiffBackend>(
    config: &ClassifierConfig,
    video: Tensor<B, 5>,
) -> ((f32, f64), Vec<f32>) {
    let model = SvfapClassifier::<B>::new(config, 7, &Default::default());
    let labels = Tensor::<B, 1, Int>::from_ints([1, 5], &Default::default());
    let out = model.forward(video);
    let features = out.features.to_data().to_vec::<f32>().unwrap();
    let loss = CrossEntropyLossConfig::new()
        .init(&Default::default())
        .forward(out.logits, labels);
    let value = loss.clone().into_scalar().elem::<f32>();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    ((value, grad_norm(&model, &grads)), features)
}

fn assert_close(fused: (f32, f64), burn_ops: (f32, f64)) {
    assert!(
        (fused.0 - burn_ops.0).abs() <= 1e-4 * burn_ops.0.abs(),
        "loss {fused:?} vs {burn_ops:?}"
    );
    assert!(
        (fused.1 - burn_ops.1).abs() <= 1e-3 * burn_ops.1,
        "grad norm {fused:?} vs {burn_ops:?}"
    );
}

#[test]
fn pretraining_on_burns_ops_matches_the_fused_kernels() {
    let encoder = preset("test").unwrap().encoder;
    let config = PretrainerConfig {
        decoder: preset("test").unwrap().decoder,
        mask_ratio: 0.75,
        fuse_multiscale: true,
        target: Default::default(),
        encoder: encoder.clone(),
    };
    let fused = pretrain_step::<CpuTrain>(&config, clips(&encoder));
    let burn_ops = pretrain_step::<BurnOps>(&config, clips(&encoder));
    assert_close(fused, burn_ops);
}

#[test]
fn finetuning_on_burns_ops_matches_the_fused_kernels() {
    let encoder = preset("test").unwrap().encoder;
    let config = ClassifierConfig {
        encoder: encoder.clone(),
        num_outputs: 7,
        head_activation: Default::default(),
        fuse_multiscale: true,
    };
    let (fused, fused_features) = finetune_step::<CpuTrain>(&config, clips(&encoder));
    let (burn_ops, burn_features) = finetune_step::<BurnOps>(&config, clips(&encoder));
    assert_close(fused, burn_ops);
    for (a, b) in fused_features.iter().zip(&burn_features) {
        assert!((a - b).abs() < 1e-4, "features {a} vs {b}");
    }
}
