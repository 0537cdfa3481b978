//! The clip transforms against outputs recorded from their first, plain implementation
//! (`tests/fixtures/transforms/`), so that speed work cannot change what the model sees.
//! Every RandAugment op at two magnitudes, the resampler, and the whole fine-tuning and
//! pre-training views for fixed seeds.
//!
//! Pointwise ops must match byte for byte. Ops that interpolate (affine, blends, resize)
//! may differ by one grey level where a value sits on a rounding boundary: at most one level
//! and on at most 1% of the values. The recorded files are rewritten with
//! `SVFAP_BLESS_TRANSFORMS=1 cargo test --lib golden` — only ever from a reference you trust.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::frame::Frame;
use super::randaugment_ops::{Op, apply};
use super::view::{ViewConfig, ViewKind, load_clips};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transforms")
}

/// A frame with smooth gradients, edges and noise, so that histogram ops, sharpening and
/// interpolation all have something to do.
fn test_frame(w: usize, h: usize, seed: u32) -> Frame {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 41) as i32 - 20
    };
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let edge = if (x / 7 + y / 5) % 2 == 0 { 60 } else { 0 };
            let r = 30 + (x * 150 / w) as i32 + edge + noise();
            let g = 200 - (y * 140 / h) as i32 + noise();
            let b = 90 + ((x + y) * 60 / (w + h)) as i32 + edge / 2 + noise();
            data.extend([r, g, b].map(|v| v.clamp(0, 255) as u8));
        }
    }
    Frame::new(w, h, data)
}

/// (name, op, exact)
fn op_cases() -> Vec<(&'static str, Op, bool)> {
    vec![
        ("autocontrast", Op::AutoContrast, true),
        ("equalize", Op::Equalize, true),
        ("invert", Op::Invert, true),
        ("rotate+", Op::Rotate(23.7), false),
        ("rotate-", Op::Rotate(-30.0), false),
        ("posterize2", Op::Posterize(2), true),
        ("posterize4", Op::Posterize(4), true),
        ("solarize", Op::Solarize(77), true),
        ("solarize_add", Op::SolarizeAdd(77), true),
        ("color+", Op::Color(1.63), false),
        ("color-", Op::Color(0.37), false),
        ("contrast-", Op::Contrast(0.4), false),
        ("contrast+", Op::Contrast(1.6), false),
        ("brightness+", Op::Brightness(1.6), false),
        ("brightness-", Op::Brightness(0.4), false),
        ("sharpness+", Op::Sharpness(1.6), false),
        ("sharpness-", Op::Sharpness(0.1), false),
        ("shear_x", Op::ShearX(0.2), false),
        ("shear_y", Op::ShearY(-0.27), false),
        ("translate_x", Op::TranslateX(0.3), false),
        ("translate_y", Op::TranslateY(-0.41), false),
    ]
}

/// (name, output, exact)
fn op_outputs() -> Vec<(String, Vec<u8>, bool)> {
    let f = test_frame(32, 24, 1);
    let mut out: Vec<(String, Vec<u8>, bool)> = op_cases()
        .into_iter()
        .map(|(name, op, exact)| (name.to_string(), apply(&f, op).data, exact))
        .collect();
    let big = test_frame(40, 30, 2);
    out.push((
        "resize_down".into(),
        big.resize_region(3.0, 2.0, 31.0, 25.0, 16, 16).data,
        false,
    ));
    out.push((
        "resize_up".into(),
        big.resize_region(5.0, 5.0, 10.0, 8.0, 24, 24).data,
        false,
    ));
    out.push(("resize_whole".into(), big.resize(17, 9).data, false));
    out
}

/// A frame folder of `n` lossless PNGs of 40×30.
fn png_folder(dir: &Path, n: usize) -> PathBuf {
    let folder = dir.join("clip");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let f = test_frame(40, 30, 10 + i as u32);
        image::RgbImage::from_raw(40, 30, f.data)
            .unwrap()
            .save(folder.join(format!("{}.png", i + 1)))
            .unwrap();
    }
    folder
}

fn view_outputs() -> Vec<(String, Vec<f32>)> {
    let dir = tempfile::tempdir().unwrap();
    let folder = png_folder(dir.path(), 12);
    let mut out = Vec::new();
    for kind in [ViewKind::Finetune, ViewKind::Pretrain] {
        let mut cfg = ViewConfig::new(kind);
        cfg.size = 16;
        cfg.clip.frames = 4;
        cfg.clip.stride = 2;
        cfg.pretrain.fixed_crop = Some([0, 24, 4, 32]);
        if kind == ViewKind::Finetune
            && let Some(e) = cfg.finetune.erasing.as_mut()
        {
            e.prob = 0.5;
        }
        for seed in 0..8u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let loaded = load_clips(&folder, &cfg, 1, &mut rng).unwrap();
            out.push((
                format!("{kind:?} seed {seed}"),
                loaded.clips.into_iter().next().unwrap().data,
            ));
        }
    }
    out
}

fn bless() -> bool {
    std::env::var_os("SVFAP_BLESS_TRANSFORMS").is_some()
}

/// Compares one output with its record: exact, or within one level on at most 1%.
fn check_levels(name: &str, got: &[i32], want: &[i32], exact: bool, errors: &mut Vec<String>) {
    if got.len() != want.len() {
        errors.push(format!(
            "{name}: {} values, recorded {}",
            got.len(),
            want.len()
        ));
        return;
    }
    let diffs: Vec<i32> = got.iter().zip(want).map(|(a, b)| (a - b).abs()).collect();
    let worst = diffs.iter().copied().max().unwrap_or(0);
    let off = diffs.iter().filter(|&&d| d > 0).count();
    let allowed = if exact { 0 } else { got.len() / 100 };
    if worst > 1 || off > allowed {
        errors.push(format!(
            "{name}: {off} of {} values differ (allowed {allowed}), worst by {worst} levels",
            got.len()
        ));
    }
}

#[test]
fn randaugment_ops_and_resize_match_the_recorded_outputs() {
    let outputs = op_outputs();
    let path = fixture_dir().join("ops.bin");
    if bless() {
        std::fs::create_dir_all(fixture_dir()).unwrap();
        let bytes: Vec<u8> = outputs.iter().flat_map(|(_, d, _)| d.clone()).collect();
        std::fs::write(&path, bytes).unwrap();
    }
    let recorded = std::fs::read(&path).unwrap();
    let mut at = 0;
    let mut errors = Vec::new();
    for (name, data, exact) in &outputs {
        let want: Vec<i32> = recorded[at..at + data.len()]
            .iter()
            .map(|&v| v as i32)
            .collect();
        at += data.len();
        let got: Vec<i32> = data.iter().map(|&v| v as i32).collect();
        check_levels(name, &got, &want, *exact, &mut errors);
    }
    assert_eq!(
        at,
        recorded.len(),
        "the record holds more cases than the test"
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn finetune_and_pretrain_views_match_the_recorded_clips() {
    let outputs = view_outputs();
    let path = fixture_dir().join("views.bin");
    if bless() {
        std::fs::create_dir_all(fixture_dir()).unwrap();
        let bytes: Vec<u8> = outputs
            .iter()
            .flat_map(|(_, d)| d.iter().flat_map(|v| v.to_le_bytes()))
            .collect();
        std::fs::write(&path, bytes).unwrap();
    }
    let recorded: Vec<f32> = std::fs::read(&path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let cfg = ViewConfig::new(ViewKind::Finetune);
    let plane = 4 * 16 * 16;
    // Back to grey levels per channel; erased values (noise, not levels) compare as floats.
    let level = |i: usize, v: f32| -> i32 {
        let c = (i / plane) % 3;
        ((v * cfg.std[c] + cfg.mean[c]) * 255.0).round() as i32
    };
    let mut at = 0;
    let mut errors = Vec::new();
    for (name, data) in &outputs {
        let want = &recorded[at..at + data.len()];
        at += data.len();
        let (mut got_l, mut want_l) = (Vec::new(), Vec::new());
        for (i, (&g, &w)) in data.iter().zip(want).enumerate() {
            let (lg, lw) = (level(i, g), level(i, w));
            let is_level = |v: f32, l: i32| {
                (0..=255).contains(&l) && {
                    let c = (i / plane) % 3;
                    ((l as f32 / 255.0 - cfg.mean[c]) / cfg.std[c] - v).abs() < 1e-5
                }
            };
            if is_level(w, lw) {
                got_l.push(lg);
                want_l.push(lw);
            } else if (g - w).abs() > 1e-6 {
                errors.push(format!("{name}: erased value {i} is {g}, recorded {w}"));
                break;
            }
        }
        check_levels(name, &got_l, &want_l, false, &mut errors);
    }
    assert_eq!(
        at,
        recorded.len(),
        "the record holds more clips than the test"
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
