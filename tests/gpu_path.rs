//! The GPU code path — burn-cubecl and burn-fusion, the code burn-cuda runs — against the CPU
//! backend: every model part, the whole fine-tuning model and pre-trainer (outputs and every
//! parameter's gradient), the attention probes, the released-layout fixtures, training runs,
//! and mixed precision. On machines without a GPU this runs burn-wgpu on Mesa's lavapipe;
//! `SVFAP_GPU_TESTS=cuda` runs it on CUDA (tools/gpu-check). Tolerances: `gpu_support`.
#![cfg(any(feature = "wgpu", feature = "cuda"))]

mod common;
mod gpu_support;

use burn::backend::flex::FlexDevice;
use burn::module::{AutodiffModule, Param};
use burn::nn::conv::Conv1dConfig;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use gpu_support::{Observed, Tolerances, assert_matches, differences, normal};
use rand::SeedableRng;
use svfap_tui::backend::{BackendChoice, CpuTrain};
use svfap_tui::model::activation::gelu;
use svfap_tui::model::attention::Attention;
use svfap_tui::model::block::Block;
use svfap_tui::model::checkpoint::{
    ArchitectureHints, ModelSpec, infer_spec, load_classifier, read_checkpoint,
};
use svfap_tui::model::cross_attention::CrossAttention;
use svfap_tui::model::cross_self_block::CrossSelfBlock;
use svfap_tui::model::init::{LinearInit, ParamInit, layer_norm};
use svfap_tui::model::mlp::Mlp;
use svfap_tui::model::norm::normalize;
use svfap_tui::model::patch_embed::PatchEmbed;
use svfap_tui::model::precision::{Precision, autocast};
use svfap_tui::model::spatial_attention::SpatialAttention;
use svfap_tui::model::temporal_downsample::temporal_downsample;
use svfap_tui::model::{
    ClassifierConfig, HeadActivation, PretrainerConfig, SvfapClassifier, SvfapPretrainer, TubeMask,
    preset,
};
use svfap_tui::train::adamw::AdamW;
use svfap_tui::train::loss_scale::LossScale;
use svfap_tui::train::regression_loss::mse_loss;
use svfap_tui::train::schedule::CosineSchedule;
use svfap_tui::train::trainer::{Trainer, UpdateRules};

const CPU: FlexDevice = FlexDevice;

/// Σ out·w for fixed random w: a loss whose gradient differs at every output element.
fn weighted_sum<B: Backend, const D: usize>(out: Tensor<B, D>, seed: u64) -> Tensor<B, 1> {
    let w = normal(out.dims(), seed, &out.device());
    (out * w).sum()
}

fn init() -> ParamInit {
    ParamInit::new(5, LinearInit::XavierUniform)
}

/// One module's output, its input gradient and every parameter's gradient.
fn observe_part<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    inputs: &[Tensor<B, 3>],
    out: Tensor<B, 3>,
) -> Observed {
    let grads = weighted_sum(out.clone(), 99).backward();
    let mut o = Observed::default();
    o.add("output", out);
    for (i, x) in inputs.iter().enumerate() {
        o.add(
            format!("grad input {i}"),
            x.grad(&grads).expect("input gradient"),
        );
    }
    o.add_grads(module, &grads);
    o
}

fn input<B: AutodiffBackend>(shape: [usize; 3], seed: u64, device: &B::Device) -> Tensor<B, 3> {
    normal::<B, 3>(shape, seed, device).require_grad()
}

// ---- GELU (defect 1: burn's CubeCL backward is the tanh approximation's derivative) ----

fn gelu_values<B: AutodiffBackend>(device: &B::Device) -> Observed {
    // -6 … 6 in steps of 0.01, 2.02 among them.
    let xs: Vec<f32> = (-600..=600).map(|i| i as f32 / 100.0).collect();
    let n = xs.len();
    let x = Tensor::<B, 1>::from_data(TensorData::new(xs, [n]), device).require_grad();
    let y = gelu(x.clone());
    let grads = y.clone().sum().backward();
    let mut o = Observed::default();
    o.add("gelu", y);
    o.add("gelu'", x.grad(&grads).unwrap());
    o
}

fn check_gelu<G: AutodiffBackend>(device: &G::Device, _: Tolerances, _: BackendChoice) {
    let (gpu, cpu) = (gelu_values::<G>(device), gelu_values::<CpuTrain>(&CPU));
    for ((name, a), (_, b)) in gpu.tensors.iter().zip(&cpu.tensors) {
        let (_, max) = differences(a, b);
        let at = a
            .iter()
            .zip(b)
            .enumerate()
            .max_by(|x, y| (x.1.0 - x.1.1).abs().total_cmp(&(y.1.0 - y.1.1).abs()))
            .map(|(i, _)| (i as f32 - 600.0) / 100.0)
            .unwrap();
        eprintln!("{name}: max |gpu − cpu| = {max:.2e} at x = {at}");
        // The CPU kernel is the exact x·Φ(x) and Φ(x) + x·φ(x) (tested against burn-flex's
        // erf); f32 rounding alone stays below 1e-6 here.
        assert!(
            max < 1e-5,
            "{name}: max |gpu − cpu| = {max:.2e} at x = {at}"
        );
    }
}

#[test]
fn gelu_and_its_gradient_are_exact_on_the_gpu_path() {
    on_gpu!(check_gelu);
}

// ---- Model parts ----

fn observe_parts<B: AutodiffBackend>(device: &B::Device) -> Vec<(&'static str, Observed)> {
    let (b, n, c, heads) = (2, 16, 32, 4);
    let mut parts = Vec::new();

    let norm = layer_norm::<B>(c, device);
    let x = input::<B>([b, n, c], 1, device);
    parts.push((
        "LayerNorm",
        observe_part(&norm, &[x.clone()], normalize(&norm, x)),
    ));

    let mlp = Mlp::<B>::new(&mut init(), c, 4 * c, c, device);
    let x = input::<B>([b, n, c], 2, device);
    parts.push((
        "MLP + GELU",
        observe_part(&mlp, &[x.clone()], mlp.forward(x)),
    ));

    let mut attn = Attention::<B>::new(&mut init(), c, heads, device);
    // Non-zero q/v biases, so that their layout (k bias fixed 0) is exercised.
    attn.q_bias = Param::from_tensor(normal([c], 3, device));
    attn.v_bias = Param::from_tensor(normal([c], 4, device));
    let x = input::<B>([b, n, c], 5, device);
    let out = attn.forward(x.clone(), false).0;
    parts.push((
        "self-attention with q/v bias",
        observe_part(&attn, &[x], out),
    ));

    let mut cross = CrossAttention::<B>::new(&mut init(), c, heads, device);
    cross.q_bias = Param::from_tensor(normal([c], 6, device));
    cross.v_bias = Param::from_tensor(normal([c], 7, device));
    let (q, ctx) = (
        input::<B>([b, 6, c], 8, device),
        input::<B>([b, n, c], 9, device),
    );
    let out = cross.forward(q.clone(), ctx.clone(), false).0;
    parts.push(("cross-attention", observe_part(&cross, &[q, ctx], out)));

    let spatial = SpatialAttention::<B>::new(&mut init(), c, 24, 3, device);
    let x = input::<B>([b, n, c], 10, device);
    let (pooled, _) = spatial.forward(x.clone(), 4);
    parts.push(("spatial bottleneck", observe_part(&spatial, &[x], pooled)));

    let mut conv = Conv1dConfig::new(c, c, 2).with_stride(2).init::<B>(device);
    let mut i = init();
    conv.weight = Param::from_tensor(i.conv_weight([c, c, 2], device));
    conv.bias = Some(Param::from_tensor(i.conv_bias(c, 2 * c, device)));
    let x = input::<B>([b, n, c], 11, device);
    let out = temporal_downsample(&conv, x.clone(), 4);
    parts.push(("temporal downsample", observe_part(&conv, &[x], out)));

    let e = preset("test").unwrap().encoder;
    let embed = PatchEmbed::<B>::new(&mut init(), &e, device);
    let tubes = input::<B>([b, e.num_tokens(), e.patch_dim()], 12, device);
    let out = embed.forward(tubes.clone());
    parts.push(("patch embedding", observe_part(&embed, &[tubes], out)));

    let block = Block::<B>::new(&mut init(), c, heads, 4, 0.0, device);
    let x = input::<B>([b, n, c], 13, device);
    let out = block.forward(x.clone(), false).0;
    parts.push(("block", observe_part(&block, &[x], out)));

    let cross_self = CrossSelfBlock::<B>::new(&mut init(), c, heads, 4, 0.0, device);
    let (x, ctx) = (
        input::<B>([b, 6, c], 14, device),
        input::<B>([b, n, c], 15, device),
    );
    let out = cross_self.forward(x.clone(), ctx.clone(), false).0;
    parts.push((
        "cross-self block",
        observe_part(&cross_self, &[x, ctx], out),
    ));
    parts
}

fn check_parts<G: AutodiffBackend>(device: &G::Device, tol: Tolerances, _: BackendChoice) {
    let cpu = observe_parts::<CpuTrain>(&CPU);
    let gpu = observe_parts::<G>(device);
    for ((name, g), (_, c)) in gpu.iter().zip(&cpu) {
        assert_matches(name, g, c, tol.part);
    }
}

#[test]
fn every_model_part_matches_the_cpu_outputs_and_gradients() {
    on_gpu!(check_parts);
}

// ---- Whole models ----

fn test_classifier(num_outputs: usize, head_activation: HeadActivation) -> ClassifierConfig {
    ClassifierConfig {
        encoder: preset("test").unwrap().encoder,
        num_outputs,
        head_activation,
        fuse_multiscale: false,
    }
}

fn test_pretrainer() -> PretrainerConfig {
    let p = preset("test").unwrap();
    PretrainerConfig {
        encoder: p.encoder,
        decoder: p.decoder,
        mask_ratio: 0.75,
        fuse_multiscale: true,
        target: Default::default(),
    }
}

fn clips<B: Backend>(batch: usize, seed: u64, device: &B::Device) -> Tensor<B, 5> {
    let e = preset("test").unwrap().encoder;
    normal(
        [batch, e.in_chans, e.frames, e.img_size, e.img_size],
        seed,
        device,
    )
}

fn masks(config: &PretrainerConfig, batch: usize, seed: u64) -> Vec<TubeMask> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..batch)
        .map(|_| {
            TubeMask::random(
                config.encoder.spatial_len(),
                config.masked_per_slice(),
                &mut rng,
            )
        })
        .collect()
}

fn labels<B: Backend>(values: &[i64], device: &B::Device) -> Tensor<B, 1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// Logits, features and every gradient of a 7-class fine-tuning loss.
fn observe_classifier<B: AutodiffBackend>(device: &B::Device) -> Observed {
    observe_classifier_scaled::<B>(device, 1.0)
}

/// As [`observe_classifier`], the backward pass from the loss × `loss_scale` (f16 training's
/// loss scaling: the fine-tuning head starts at 0.001× its init, so the encoder's gradients
/// are ~1e-7 and flush to zero in f16 without it), gradients unscaled.
fn observe_classifier_scaled<B: AutodiffBackend>(device: &B::Device, loss_scale: f32) -> Observed {
    let model = SvfapClassifier::<B>::new(&test_classifier(7, HeadActivation::None), 3, device);
    let out = model.forward(clips(3, 21, device));
    let loss = CrossEntropyLossConfig::new()
        .init(device)
        .forward(out.logits.clone(), labels(&[1, 5, 3], device));
    let grads = (loss.clone() * loss_scale).backward();
    let mut o = Observed::default();
    o.add("loss", loss);
    o.add("logits", out.logits);
    o.add("features", out.features);
    o.add_grads(&model, &grads);
    o.unscale_grads(loss_scale);
    o
}

/// The 1-target regression head (sigmoid, MSE) on a batch (defect 2: fusion gave wrong
/// results for batched MLPs ending in an [N, 1] head, upstream burn issue 5122). The
/// targets sit on one side of the initial outputs (~0.5), so that no gradient cancels out
/// over the batch.
fn observe_regressor<B: AutodiffBackend>(device: &B::Device) -> Observed {
    let model = SvfapClassifier::<B>::new(&test_classifier(1, HeadActivation::Sigmoid), 4, device);
    let out = model.forward(clips(4, 22, device));
    let targets = Tensor::<B, 2>::from_data(
        TensorData::new(vec![0.1f32, 0.3, 0.2, 0.15], [4, 1]),
        device,
    );
    let loss = mse_loss(out.logits.clone(), targets);
    let grads = loss.clone().backward();
    let mut o = Observed::default();
    o.add("loss", loss);
    o.add("outputs", out.logits);
    o.add_grads(&model, &grads);
    o
}

/// Loss, predictions and every gradient of a pre-training loss.
fn observe_pretrainer<B: AutodiffBackend>(device: &B::Device) -> Observed {
    observe_pretrainer_scaled::<B>(device, 1.0)
}

fn observe_pretrainer_scaled<B: AutodiffBackend>(device: &B::Device, loss_scale: f32) -> Observed {
    let config = test_pretrainer();
    let model = SvfapPretrainer::<B>::new(&config, 6, device);
    let out = model.loss(clips(2, 23, device), &masks(&config, 2, 7));
    let grads = (out.loss.clone() * loss_scale).backward();
    let mut o = Observed::default();
    o.add("loss", out.loss);
    o.add("predictions", out.predictions);
    o.add("targets", out.targets);
    o.add_grads(&model, &grads);
    o.unscale_grads(loss_scale);
    o
}

/// The attention weights the probes return for every block.
fn observe_probes<B: AutodiffBackend>(device: &B::Device) -> Observed {
    let config = test_classifier(7, HeadActivation::None);
    let model = SvfapClassifier::<B>::new(&config, 3, device).valid();
    let video = clips::<B::InnerBackend>(2, 24, device);
    let mut o = Observed::default();
    for block in 0..config.encoder.num_blocks() {
        let maps = model
            .forward_probed(video.clone(), Some(block))
            .attention
            .expect("a probe returns maps");
        o.add(format!("block {block} self-attention"), maps.self_attention);
        if let Some(cross) = maps.cross_attention {
            o.add(format!("block {block} cross-attention"), cross);
        }
        if let Some(assignment) = maps.bottleneck_assignment {
            o.add(format!("block {block} bottleneck assignment"), assignment);
        }
    }
    o
}

fn check_models<G: AutodiffBackend>(device: &G::Device, tol: Tolerances, _: BackendChoice) {
    type Observe<B> = fn(&burn::tensor::Device<B>) -> Observed;
    let models: [(&str, Observe<G>, Observe<CpuTrain>); 4] = [
        (
            "fine-tuning model",
            observe_classifier::<G>,
            observe_classifier::<CpuTrain>,
        ),
        (
            "1-target regression head",
            observe_regressor::<G>,
            observe_regressor::<CpuTrain>,
        ),
        (
            "pre-trainer",
            observe_pretrainer::<G>,
            observe_pretrainer::<CpuTrain>,
        ),
        (
            "attention probes",
            observe_probes::<G>,
            observe_probes::<CpuTrain>,
        ),
    ];
    for (name, gpu, cpu) in models {
        assert_matches(name, &gpu(device), &cpu(&CPU), tol.model);
    }
}

#[test]
fn whole_models_match_the_cpu_outputs_and_every_gradient() {
    on_gpu!(check_models);
}

// ---- Released-layout fixtures through import + inference ----

fn check_fixture<G: AutodiffBackend>(device: &G::Device, tol: Tolerances, _: BackendChoice) {
    let file = common::fixture("finetune_tiny.safetensors");
    let ckpt = read_checkpoint(&file).unwrap();
    let hints = ArchitectureHints {
        heads: Some(4),
        img_size: Some(32),
        frames: Some(8),
        ..Default::default()
    };
    let ModelSpec::Classifier(config) = infer_spec(&ckpt, &hints).unwrap() else {
        panic!("the fixture is a classifier");
    };
    let model = load_classifier::<G::InnerBackend>(&config, &ckpt, device).unwrap();
    let input = svfap_tui::npy::read_f32(&common::fixture("finetune_tiny_input.npy")).unwrap();
    let shape: [usize; 5] = input.shape.clone().try_into().unwrap();
    let out = model.forward(Tensor::from_data(
        TensorData::new(input.values, shape),
        device,
    ));
    let mut gpu = Observed::default();
    gpu.add("logits", out.logits);
    gpu.add("features", out.features);
    let mut reference = Observed::default();
    for (name, file) in [
        ("logits", "finetune_tiny_logits.npy"),
        ("features", "finetune_tiny_features.npy"),
    ] {
        let values = svfap_tui::npy::read_f32(&common::fixture(file))
            .unwrap()
            .values;
        reference.tensors.push((name.into(), values));
    }
    assert_matches("released fixture vs PyTorch", &gpu, &reference, tol.model);
}

#[test]
fn released_fixture_imports_and_infers_as_pytorch_does() {
    on_gpu!(check_fixture);
}

// ---- Training ----

const TRAIN_STEPS: u64 = 30;

fn trainer<B: AutodiffBackend, M: AutodiffModule<B> + Sync>(
    model: M,
    device: &B::Device,
    lr: f64,
) -> Trainer<B, M> {
    let schedule = CosineSchedule {
        base: lr,
        end: lr / 10.0,
        warmup_start: lr,
        warmup_steps: 0,
        total_steps: TRAIN_STEPS,
    };
    let rules = UpdateRules {
        weight_decay: 0.05,
        layer_decay: None,
        num_blocks: 0,
        clip_grad: 1.0,
    };
    Trainer::new(
        model,
        device.clone(),
        AdamW::new(0.9, 0.999, 1e-8),
        schedule,
        rules,
        0,
    )
}

/// Losses of `TRAIN_STEPS` fine-tuning steps, each on its own batch.
fn finetune_losses<B: AutodiffBackend>(device: &B::Device) -> Vec<f32> {
    let model = SvfapClassifier::<B>::new(&test_classifier(7, HeadActivation::None), 3, device);
    let mut trainer = trainer(model, device, 1e-3);
    let ce = CrossEntropyLossConfig::new().init(device);
    (0..TRAIN_STEPS)
        .map(|step| {
            let video = clips::<B>(4, 100 + step, device);
            let y = labels::<B>(&[(step % 7) as i64, 2, 4, 6], device);
            let stats = trainer
                .step(1, |m, _| {
                    ce.forward(m.forward(video.clone()).logits, y.clone())
                })
                .unwrap();
            stats.loss as f32
        })
        .collect()
}

/// Losses of `TRAIN_STEPS` pre-training steps.
fn pretrain_losses<B: AutodiffBackend>(device: &B::Device) -> Vec<f32> {
    let config = test_pretrainer();
    let model = SvfapPretrainer::<B>::new(&config, 6, device);
    let mut trainer = trainer(model, device, 1e-3);
    (0..TRAIN_STEPS)
        .map(|step| {
            let video = clips::<B>(2, 200 + step, device);
            let masks = masks(&config, 2, step);
            trainer
                .step(1, |m, _| m.loss(video.clone(), &masks).loss)
                .unwrap()
                .loss as f32
        })
        .collect()
}

fn check_training<G: AutodiffBackend>(device: &G::Device, tol: Tolerances, _: BackendChoice) {
    for (name, gpu, cpu) in [
        (
            "fine-tuning",
            finetune_losses::<G>(device),
            finetune_losses::<CpuTrain>(&CPU),
        ),
        (
            "pre-training",
            pretrain_losses::<G>(device),
            pretrain_losses::<CpuTrain>(&CPU),
        ),
    ] {
        let worst = gpu
            .iter()
            .zip(&cpu)
            .map(|(g, c)| ((g - c).abs() / c.abs()) as f64)
            .fold(0.0, f64::max);
        eprintln!(
            "{name}: {TRAIN_STEPS} steps, loss {:.4} → {:.4} (cpu {:.4} → {:.4}), worst relative difference {worst:.2e}",
            gpu[0],
            gpu[gpu.len() - 1],
            cpu[0],
            cpu[cpu.len() - 1]
        );
        assert!(
            worst <= tol.training,
            "{name}: losses {gpu:?} vs cpu {cpu:?}"
        );
        assert!(
            cpu[cpu.len() - 1] < cpu[0],
            "{name}: the loss must fall: {cpu:?}"
        );
    }
}

#[test]
fn training_runs_follow_the_cpu_step_by_step() {
    on_gpu!(check_training);
}

// ---- Mixed precision ----

/// The half types `choice` runs (bf16 only on CUDA).
fn half_precisions(choice: BackendChoice) -> Vec<Precision> {
    [Precision::F16, Precision::Bf16]
        .into_iter()
        .filter(|p| p.unsupported_on(choice).is_none())
        .collect()
}

fn check_half_gradients<G: AutodiffBackend>(
    device: &G::Device,
    tol: Tolerances,
    choice: BackendChoice,
) {
    let f32_grads = observe_classifier::<G>(device);
    let f32_pre = observe_pretrainer::<G>(device);
    for precision in half_precisions(choice) {
        let _autocast = autocast(precision);
        // f16 trains with a dynamic loss scale (starting at 2^16); bf16 has f32's range.
        let scale = if precision == Precision::F16 {
            LossScale::default().scale as f32
        } else {
            1.0
        };
        let name = format!("fine-tuning model in {precision} vs f32");
        let half = observe_classifier_scaled::<G>(device, scale);
        assert_matches(&name, &half, &f32_grads, tol.half);
        let name = format!("pre-trainer in {precision} vs f32");
        let half = observe_pretrainer_scaled::<G>(device, scale);
        assert_matches(&name, &half, &f32_pre, tol.half);
    }
}

#[test]
fn half_precision_gradients_stay_close_to_f32() {
    on_gpu!(check_half_gradients);
}

/// Mean pre-training loss of the last 20 of `steps` demo-preset steps in `precision`, and
/// how many steps the f16 loss scale skipped.
fn pretrain_demo<B: AutodiffBackend>(
    device: &B::Device,
    precision: Precision,
    steps: u64,
) -> (f64, u64) {
    let _autocast = autocast(precision);
    let p = preset("demo").unwrap();
    let config = PretrainerConfig {
        encoder: p.encoder.clone(),
        decoder: p.decoder,
        mask_ratio: 0.9,
        fuse_multiscale: true,
        target: Default::default(),
    };
    let model = SvfapPretrainer::<B>::new(&config, 1, device);
    let mut trainer = trainer(model, device, 1.5e-3);
    trainer.schedule.total_steps = steps;
    if precision == Precision::F16 {
        trainer.loss_scale = Some(LossScale::default());
    }
    let e = &p.encoder;
    // A learnable signal: smooth per-clip colour gradients that move over time.
    let video = |step: u64| {
        let (t, s) = (e.frames, e.img_size);
        let mut values = Vec::with_capacity(4 * 3 * t * s * s);
        for clip in 0..4u64 {
            let phase = ((step * 4 + clip) % 17) as f32 / 17.0;
            for c in 0..3 {
                for f in 0..t {
                    for y in 0..s {
                        for x in 0..s {
                            let v = ((x + f) as f32 / s as f32 * (1.0 + c as f32)
                                + phase
                                + y as f32 / (2 * s) as f32)
                                .sin();
                            values.push(v);
                        }
                    }
                }
            }
        }
        Tensor::<B, 5>::from_data(TensorData::new(values, [4, 3, t, s, s]), device)
    };
    let mut losses = Vec::new();
    let mut skipped = 0;
    for step in 0..steps {
        let v = video(step);
        let m = masks(&config, 4, 1000 + step);
        let stats = trainer
            .step(1, |model, _| model.loss(v.clone(), &m).loss)
            .unwrap();
        skipped += stats.skipped as u64;
        losses.push(stats.loss);
    }
    let tail = &losses[losses.len() - 20..];
    eprintln!(
        "demo pre-training in {precision}: loss {:.4} → {:.4}, {skipped} steps skipped",
        losses[0],
        tail.iter().sum::<f64>() / 20.0
    );
    (tail.iter().sum::<f64>() / 20.0, skipped)
}

/// Steps of the mixed-precision pre-training run: 200 on a GPU (seconds). Lavapipe runs every
/// kernel on the CPU: there two runs of 200 demo steps took 20 minutes of a 2-core CI
/// machine, so it runs 50, which still span the fall of the loss from random weights, where
/// f16 underflow and a wrong loss scale show; the last 20 steps' mean is compared.
fn half_training_steps(choice: BackendChoice) -> u64 {
    match choice {
        BackendChoice::Wgpu => 50,
        _ => 200,
    }
}

fn check_half_training<G: AutodiffBackend>(
    device: &G::Device,
    _: Tolerances,
    choice: BackendChoice,
) {
    let steps = half_training_steps(choice);
    let (reference, _) = pretrain_demo::<G>(device, Precision::F32, steps);
    for precision in half_precisions(choice) {
        let (half, skipped) = pretrain_demo::<G>(device, precision, steps);
        let gap = (half - reference).abs() / reference;
        eprintln!(
            "{precision}: final loss {half:.4} vs f32 {reference:.4} ({:.1}% apart)",
            100.0 * gap
        );
        assert!(
            gap < 0.05,
            "{precision} pre-training drifted from f32: {half} vs {reference}"
        );
        assert!(
            skipped < steps / 10,
            "{precision}: {skipped} of {steps} steps overflowed"
        );
    }
}

#[test]
fn half_precision_pretraining_tracks_f32() {
    on_gpu!(check_half_training);
}

// ---- NCCL (CUDA only) ----

/// The gradient all-reduce of CUDA ranks on one rank: libnccl loads, the communicator
/// starts, and an in-place NCCL sum of a burn-cuda gradient bucket (one rank: the sum is the
/// bucket) leaves every gradient as it was. Several ranks need several GPUs.
#[cfg(feature = "cuda")]
#[test]
fn nccl_sums_a_cuda_gradient_bucket_in_place() {
    use svfap_tui::backend::CudaTrain;
    use svfap_tui::distributed::World;
    use svfap_tui::distributed::gradient_buffer::flatten_on_device;
    use svfap_tui::distributed::nccl_reduce::NcclReduce;
    if gpu_support::selected() != BackendChoice::Cuda {
        eprintln!("NCCL runs on CUDA only (SVFAP_GPU_TESTS=cuda); this run is on wgpu");
        return;
    }
    let device = svfap_tui::backend::cuda_device(0);
    let model =
        SvfapClassifier::<CudaTrain>::new(&test_classifier(3, HeadActivation::None), 7, &device);
    let loss = model
        .forward(clips::<CudaTrain>(2, 11, &device))
        .logits
        .powi_scalar(2)
        .mean();
    let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
    let (flat, layout) = flatten_on_device(&model, Some(&grads));
    let flat = flat.expect("a gradient bucket");
    let before: Vec<f32> = flat.to_data().to_vec().unwrap();
    let nccl = NcclReduce::join(&World::single(), 0).expect("NCCL starts on one rank");
    let summed = nccl.sum_in_place(flat).expect("ncclAllReduce");
    let after: Vec<f32> = summed.to_data().to_vec().unwrap();
    assert_eq!(before.len(), after.len());
    assert!(before == after, "one rank's NCCL sum changed the bucket");
    let back = layout.unflatten_tensor(&model, summed, &layout.present);
    assert_eq!(back.len(), layout.present.len());
}
