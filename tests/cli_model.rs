//! End-to-end: the real binary's model commands.

mod common;

use std::process::Command;

use common::*;

fn svfap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("svfap-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn model_info_prints_the_paper_numbers_for_base() {
    let out = svfap(&["model", "info", "--preset", "base"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("fine-tune params 77.6M"), "{text}");
    assert!(text.contains("fine-tune FLOPs  43.6 G"), "{text}");
    assert!(text.contains("pre-train FLOPs  12.9 G"), "{text}");
}

#[test]
fn imported_checkpoint_infers_like_pytorch() {
    let dir = temp_dir("infer");
    let model = dir.join("tiny.safetensors");
    let ckpt = fixture("finetune_tiny.pth");
    let out = svfap(&[
        "model",
        "import",
        ckpt.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--heads",
        "4",
        "--img-size",
        "32",
        "--frames",
        "8",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("head     7 outputs"));

    // First clip of the fixture batch as a [3, T, H, W] array.
    let batch = svfap_tui::npy::read_f32(&fixture("finetune_tiny_input.npy")).unwrap();
    let per_clip = batch.values.len() / batch.shape[0];
    let clip = dir.join("clip.npy");
    svfap_tui::npy::write_f32(&clip, &batch.shape[1..], &batch.values[..per_clip]).unwrap();

    let out = svfap(&[
        "infer",
        "--checkpoint",
        model.to_str().unwrap(),
        clip.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let logits: Vec<f32> = json["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    let reference = svfap_tui::npy::read_f32(&fixture("finetune_tiny_logits.npy")).unwrap();
    let scale = reference.values.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (a, b) in logits.iter().zip(&reference.values[..7]) {
        assert!(
            (a - b).abs() / scale < 1e-4,
            "{logits:?} vs {:?}",
            &reference.values[..7]
        );
    }
    let probs: f64 = json["probs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((probs - 1.0).abs() < 1e-5);
    assert_eq!(json["features"].as_array().unwrap().len(), 32);

    let out = svfap(&[
        "infer",
        "--checkpoint",
        model.to_str().unwrap(),
        clip.to_str().unwrap(),
        "--labels",
        "a,b",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--labels has 2 names but the model has 7 outputs")
    );
}

#[test]
fn import_refuses_a_wider_checkpoint_naming_the_key() {
    let dir = temp_dir("wide");
    let out = svfap(&[
        "model",
        "import",
        fixture("pretrain_tiny_wide48.pth").to_str().unwrap(),
        "--out",
        dir.join("x.safetensors").to_str().unwrap(),
        "--preset",
        "test",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`encoder.patch_embed.proj.weight`") && err.contains("[48, 3, 2, 8, 8]"),
        "{err}"
    );
    assert!(
        !dir.join("x.safetensors").exists(),
        "nothing is written on failure"
    );
}

#[test]
fn infer_rejects_inputs_it_cannot_use_with_the_reason() {
    let dir = temp_dir("reject");
    let out = svfap(&[
        "infer",
        "--checkpoint",
        fixture("pretrain_tiny.pth").to_str().unwrap(),
        "x.npy",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pre-training checkpoint"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = dir.join("tiny.safetensors");
    svfap(&[
        "model",
        "import",
        fixture("finetune_tiny.pth").to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--heads",
        "4",
        "--img-size",
        "32",
        "--frames",
        "8",
    ]);
    let wrong = dir.join("wrong.npy");
    svfap_tui::npy::write_f32(&wrong, &[3, 4, 32, 32], &vec![0.0; 3 * 4 * 32 * 32]).unwrap();
    let out = svfap(&[
        "infer",
        "--checkpoint",
        model.to_str().unwrap(),
        wrong.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shape [3, 4, 32, 32] does not match") && err.contains("[3, 8, 32, 32]"),
        "{err}"
    );
    // A NaN pixel: refused by place, not printed as `NaN%`.
    let nan = dir.join("nan.npy");
    let mut data = vec![0.0f32; 3 * 8 * 32 * 32];
    data[8 * 32 * 32 + 5 * 32 * 32 + 2 * 32 + 7] = f32::NAN;
    svfap_tui::npy::write_f32(&nan, &[3, 8, 32, 32], &data).unwrap();
    let out = svfap(&[
        "infer",
        "--checkpoint",
        model.to_str().unwrap(),
        nan.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("NaN at [channel 1, frame 5, row 2, column 7] is not a finite number"),
        "{err}"
    );
}

#[test]
fn warmup_runs_each_shape_of_a_run_config_once() {
    let out = svfap(&[
        "warmup",
        "assets/demo-finetune.toml",
        "--set",
        "optim.batch_size=2",
    ]);
    let (text, err) = (stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}{err}");
    // The training step at the micro-batch, then the evaluation pass at the test views.
    assert!(text.contains("finetune batch 2 f32: first step"), "{text}");
    assert!(text.contains("infer batch 2 f32: first step"), "{text}");
    assert!(text.contains("warm-up done"), "{text}");
}

#[test]
fn bench_model_reports_throughput_flops_memory_and_first_step() {
    let out = svfap(&[
        "bench",
        "model",
        "--preset",
        "test",
        "--mode",
        "finetune",
        "--batch",
        "2",
        "--steps",
        "2",
        "--warmup",
        "1",
        "--peak-tflops",
        "1",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for line in [
        "clips/s",
        "TFLOP/s",
        "MFU",
        "memory",
        "first step",
        "row | cpu | test |",
    ] {
        assert!(text.contains(line), "{line} missing: {text}");
    }
}

#[test]
fn half_precision_on_the_cpu_is_refused_by_name() {
    for args in [
        &["bench", "model", "--preset", "test", "--precision", "bf16"][..],
        &["warmup", "--preset", "test", "--precision", "f16"][..],
    ] {
        let out = svfap(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains("--precision") && err.contains("GPU backend"),
            "{err}"
        );
    }
}
