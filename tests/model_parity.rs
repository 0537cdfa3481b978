//! The burn model against the independent PyTorch reference (tools/reference/), through the
//! real import path: released key layout in, outputs within 1e-4 of the output scale.

mod common;

use common::*;
use svfap_tui::backend::Cpu;
use svfap_tui::model::checkpoint::{
    ArchitectureHints, ModelSpec, infer_spec, init_classifier_from_pretrainer, load_classifier,
    load_pretrainer, read_checkpoint,
};
use svfap_tui::model::checkpoint_save::{save_classifier, save_pretrainer};
use svfap_tui::model::target::mse;
use svfap_tui::model::{ClassifierConfig, PretrainerConfig, SvfapClassifier};

fn classifier_spec(file: &str, hints: &ArchitectureHints) -> ClassifierConfig {
    match infer_spec(&read_checkpoint(&fixture(file)).unwrap(), hints).unwrap() {
        ModelSpec::Classifier(c) => c,
        other => panic!("expected a classifier, got {other:?}"),
    }
}

fn pretrainer_spec() -> PretrainerConfig {
    match infer_spec(
        &read_checkpoint(&fixture("pretrain_tiny.pth")).unwrap(),
        &tiny_hints(),
    )
    .unwrap()
    {
        ModelSpec::Pretrainer(c) => c,
        other => panic!("expected a pre-trainer, got {other:?}"),
    }
}

#[test]
fn architecture_is_inferred_from_the_released_shapes() {
    let config = classifier_spec("finetune_tiny.pth", &tiny_hints());
    assert_eq!(config.encoder, tiny_encoder());
    assert_eq!(config.num_outputs, 7);
    let pre = pretrainer_spec();
    assert_eq!(pre.encoder, tiny_encoder());
    assert_eq!(
        (pre.decoder.width, pre.decoder.depth, pre.decoder.heads),
        (16, 2, 2)
    );
}

#[test]
fn finetune_logits_match_pytorch_for_every_checkpoint_container() {
    let input = npy_tensor::<5>("finetune_tiny_input.npy");
    for file in [
        "finetune_tiny.pth",
        "finetune_tiny_module.pth",
        "finetune_tiny.safetensors",
    ] {
        let ckpt = read_checkpoint(&fixture(file)).unwrap();
        let config = classifier_spec(file, &tiny_hints());
        let model = load_classifier::<Cpu>(&config, &ckpt, &Default::default()).unwrap();
        let out = model.forward(input.clone());
        assert_close(
            &format!("{file} logits"),
            out.logits,
            npy_tensor("finetune_tiny_logits.npy"),
        );
        assert_close(
            &format!("{file} features"),
            out.features,
            npy_tensor("finetune_tiny_features.npy"),
        );
    }
}

#[test]
fn finetune_with_multiscale_fusion_matches_pytorch() {
    let hints = ArchitectureHints {
        fuse_multiscale: true,
        ..tiny_hints()
    };
    let config = classifier_spec("finetune_tiny.pth", &hints);
    let ckpt = read_checkpoint(&fixture("finetune_tiny.pth")).unwrap();
    let model = load_classifier::<Cpu>(&config, &ckpt, &Default::default()).unwrap();
    let out = model.forward(npy_tensor("finetune_tiny_input.npy"));
    assert_close(
        "fused logits",
        out.logits,
        npy_tensor("finetune_tiny_fused_logits.npy"),
    );
}

#[test]
fn pretrainer_predictions_targets_and_losses_match_pytorch() {
    let config = pretrainer_spec();
    let ckpt = read_checkpoint(&fixture("pretrain_tiny.pth")).unwrap();
    let model = load_pretrainer::<Cpu>(&config, &ckpt, &Default::default()).unwrap();
    let video = npy_tensor::<5>("pretrain_tiny_input.npy");
    let masks = npy_masks("pretrain_tiny_mask.npy", 4);
    let step = model.loss(video.clone(), &masks);
    assert_close(
        "predictions",
        step.predictions.clone(),
        npy_tensor("pretrain_tiny_pred.npy"),
    );
    assert_close(
        "normalised targets",
        step.targets,
        npy_tensor("pretrain_tiny_target_norm.npy"),
    );
    assert_close(
        "plain targets",
        step.masked_pixels.clone(),
        npy_tensor("pretrain_tiny_target_plain.npy"),
    );

    let losses: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("pretrain_tiny_loss.json")).unwrap())
            .unwrap();
    let loss_norm = step.loss.into_scalar();
    // Plain targets (paper Eq. 11) are the masked pixels themselves.
    let loss_plain = mse(step.predictions, step.masked_pixels).into_scalar();
    for (ours, key) in [(loss_norm, "loss_norm"), (loss_plain, "loss_plain")] {
        let reference = losses[key].as_f64().unwrap() as f32;
        assert!(
            (ours - reference).abs() / reference < 1e-4,
            "{key}: {ours} vs {reference}"
        );
    }

    let nofuse = PretrainerConfig {
        fuse_multiscale: false,
        ..config
    };
    let model = load_pretrainer::<Cpu>(&nofuse, &ckpt, &Default::default()).unwrap();
    let out = model.forward(video, &masks);
    assert_close(
        "predictions without fusion",
        out.predictions,
        npy_tensor("pretrain_tiny_pred_nofuse.npy"),
    );
}

#[test]
fn wide_pretraining_checkpoint_is_refused_naming_the_first_mismatched_key() {
    // DESIGN §5 bug 3: the released pre-training factory is wider than the fine-tuning model.
    let ckpt = read_checkpoint(&fixture("pretrain_tiny_wide48.pth")).unwrap();
    let config = ClassifierConfig {
        encoder: tiny_encoder(),
        num_outputs: 7,
        head_activation: Default::default(),
        fuse_multiscale: false,
    };
    let mut model = SvfapClassifier::<Cpu>::new(&config, 0, &Default::default());
    let err = init_classifier_from_pretrainer(&mut model, &ckpt)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`patch_embed.proj.weight`"), "{err}");
    assert!(
        err.contains("[48, 3, 2, 8, 8]") && err.contains("[32, 3, 2, 8, 8]"),
        "{err}"
    );
    assert!(err.contains("pretrain_tiny_wide48.pth"), "{err}");

    let err = load_pretrainer::<Cpu>(&pretrainer_spec(), &ckpt, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`encoder.patch_embed.proj.weight`"), "{err}");
}

#[test]
fn finetune_checkpoint_missing_a_key_is_refused_naming_it() {
    let ckpt = read_checkpoint(&fixture("finetune_tiny.pth")).unwrap();
    let mut config = classifier_spec("finetune_tiny.pth", &tiny_hints());
    config.encoder.stage_depths = vec![2, 2, 3];
    let err = load_classifier::<Cpu>(&config, &ckpt, &Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("missing key `blocks.6."), "{err}");
}

#[test]
fn pretrained_encoder_initialises_a_classifier_and_leaves_the_head_fresh() {
    let ckpt = read_checkpoint(&fixture("pretrain_tiny.pth")).unwrap();
    let config = ClassifierConfig {
        encoder: tiny_encoder(),
        num_outputs: 7,
        head_activation: Default::default(),
        fuse_multiscale: false,
    };
    let mut model = SvfapClassifier::<Cpu>::new(&config, 0, &Default::default());
    let loaded = init_classifier_from_pretrainer(&mut model, &ckpt).unwrap();
    // 170 pre-trainer tensors − decoder (2 blocks × 13 + norm 2 + head 2), encoder_to_decoder,
    // mask_token and encoder.norm (2).
    assert_eq!(loaded, 170 - 30 - 1 - 1 - 2);
    let reference = load_pretrainer::<Cpu>(&pretrainer_spec(), &ckpt, &Default::default()).unwrap();
    let ours = model.encoder.patch_embed.proj.weight.val();
    let theirs = reference.encoder.patch_embed.proj.weight.val();
    assert_eq!(relative_error(ours, theirs), 0.0);
}

#[test]
fn our_format_round_trips_and_keeps_the_released_key_names() {
    let dir = std::env::temp_dir().join(format!("svfap-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = classifier_spec("finetune_tiny.pth", &tiny_hints());
    let ckpt = read_checkpoint(&fixture("finetune_tiny.pth")).unwrap();
    let model = load_classifier::<Cpu>(&config, &ckpt, &Default::default()).unwrap();
    let path = dir.join("classifier.safetensors");
    // A half-written temp file left by a killed writer must not block the next save.
    std::fs::write(path.with_extension("safetensors.tmp"), b"torn").unwrap();
    let mut input_spec = svfap_tui::model::input_spec::InputSpec::for_dataset("dfew").unwrap();
    input_spec.stride = 2;
    save_classifier(&model, Some(&input_spec), &path).unwrap();
    assert!(!path.with_extension("safetensors.tmp").exists());
    let saved = read_checkpoint(&path).unwrap();
    // What `infer` needs beyond the weights comes back as written.
    assert_eq!(saved.input.as_ref(), Some(&input_spec));
    assert_eq!(
        saved.tensors.keys().collect::<Vec<_>>(),
        ckpt.tensors.keys().collect::<Vec<_>>()
    );
    // Our metadata carries the full config, so no hints are needed.
    let spec = infer_spec(&saved, &ArchitectureHints::default()).unwrap();
    assert_eq!(spec, ModelSpec::Classifier(config.clone()));
    let reloaded = load_classifier::<Cpu>(&config, &saved, &Default::default()).unwrap();
    let input = npy_tensor::<5>("finetune_tiny_input.npy");
    assert_eq!(
        relative_error(
            reloaded.forward(input.clone()).logits,
            model.forward(input).logits
        ),
        0.0
    );

    let pre = load_pretrainer::<Cpu>(
        &pretrainer_spec(),
        &read_checkpoint(&fixture("pretrain_tiny.pth")).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let path = dir.join("pretrainer.safetensors");
    save_pretrainer(&pre, &path).unwrap();
    let saved = read_checkpoint(&path).unwrap();
    assert!(saved.tensors.contains_key("encoder.norm.weight"));
    assert!(saved.tensors.contains_key("mask_token"));
    load_pretrainer::<Cpu>(&pretrainer_spec(), &saved, &Default::default()).unwrap();
}
