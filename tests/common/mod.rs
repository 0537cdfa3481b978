//! Helpers shared by the integration tests: fixture paths, arrays and comparisons.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burn::prelude::*;
use svfap_tui::backend::Cpu;
use svfap_tui::model::checkpoint::ArchitectureHints;
use svfap_tui::model::{EncoderConfig, TubeMask, preset};

/// A committed fixture; from the working folder when the test binary runs on another
/// machine than the one that built it (the GPU check carries prebuilt test binaries).
pub fn fixture(name: &str) -> PathBuf {
    let built_here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let root = if built_here.is_dir() {
        built_here
    } else {
        PathBuf::from("tests/fixtures")
    };
    root.join(name)
}

/// The tiny architecture of the fixtures (= the `test` preset).
pub fn tiny_encoder() -> EncoderConfig {
    preset("test").unwrap().encoder
}

/// What the shapes of the tiny fixtures cannot tell.
pub fn tiny_hints() -> ArchitectureHints {
    ArchitectureHints {
        heads: Some(4),
        decoder_heads: Some(2),
        img_size: Some(32),
        frames: Some(8),
        mask_ratio: Some(0.75),
        ..Default::default()
    }
}

pub fn npy_tensor<const D: usize>(name: &str) -> Tensor<Cpu, D> {
    let a = svfap_tui::npy::read_f32(&fixture(name)).unwrap();
    let shape: [usize; D] = a.shape.clone().try_into().unwrap();
    Tensor::from_data(TensorData::new(a.values, shape), &Default::default())
}

/// Tube masks from a u8 [B, N] fixture (1 = masked).
pub fn npy_masks(name: &str, slices: usize) -> Vec<TubeMask> {
    let file = std::fs::File::open(fixture(name)).unwrap();
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file)).unwrap();
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let flags: Vec<u8> = npy.into_vec().unwrap();
    flags
        .chunks(shape[1])
        .map(|row| {
            TubeMask::from_token_flags(&row.iter().map(|&v| v == 1).collect::<Vec<_>>(), slices)
                .unwrap()
        })
        .collect()
}

/// Largest |a − b| divided by the reference's largest |b| (the output scale).
pub fn relative_error<const D: usize>(a: Tensor<Cpu, D>, b: Tensor<Cpu, D>) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    let scale = b.clone().abs().max().into_scalar();
    let diff = (a - b).abs().max().into_scalar();
    diff / scale.max(1e-12)
}

pub fn assert_close<const D: usize>(what: &str, ours: Tensor<Cpu, D>, reference: Tensor<Cpu, D>) {
    let err = relative_error(ours, reference);
    assert!(err < 1e-4, "{what}: relative error {err:e} ≥ 1e-4");
}
