//! From a file to the normalised clips the model sees: the test view, the fine-tuning view
//! and the pre-training view (DESIGN §6). Each is sampling + decoding + the same spatial
//! transform for every frame + ImageNet normalisation.

use std::path::Path;
use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::augment::RandomErasing;
use super::error::DataResult;
use super::frame::{Frame, to_normalized_tensor};
use super::frame_pack::{FramePack, PackLookup};
use super::randaugment::{RandAugmentConfig, rand_augment};
use super::sampling::ClipSpec;
use super::source::{ClipSource, DecodeOptions, Resize};
use super::thread_clock::thread_cpu_seconds;
use super::transforms::{
    center_crop, fixed_crop, multi_scale_crop, random_flip, random_resized_crop,
};
use crate::model::pixel_norm::{IMAGENET_MEAN, IMAGENET_STD};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ViewKind {
    /// Evaluation: `test_clips` uniformly spaced clips, short side resized to `size`,
    /// centre crop.
    Test,
    /// Fine-tuning: random window, RandAugment, random resized crop, flip, random erasing.
    Finetune,
    /// Pre-training: random start, fixed face crop, multi-scale crop, no flip.
    Pretrain,
}

/// Fine-tuning augmentation (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinetuneAug {
    pub rand_augment: Option<RandAugmentConfig>,
    pub scale: (f64, f64),
    pub ratio: (f64, f64),
    pub flip_prob: f64,
    pub erasing: Option<RandomErasing>,
}

impl Default for FinetuneAug {
    fn default() -> Self {
        Self {
            rand_augment: Some(RandAugmentConfig::default()),
            scale: (0.08, 1.0),
            ratio: (0.75, 4.0 / 3.0),
            flip_prob: 0.5,
            erasing: Some(RandomErasing::default()),
        }
    }
}

/// Pre-training augmentation (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainAug {
    /// `[y0, y1, x0, x1]`, applied only to frames at least that large (rows 0–160,
    /// cols 32–192 of 224×224 faces in the paper).
    pub fixed_crop: Option<[usize; 4]>,
    pub scales: Vec<f64>,
}

impl Default for PretrainAug {
    fn default() -> Self {
        Self {
            fixed_crop: Some([0, 160, 32, 192]),
            scales: vec![1.0, 0.875, 0.75, 0.66],
        }
    }
}

/// Everything that decides what clip a file becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewConfig {
    pub kind: ViewKind,
    pub clip: ClipSpec,
    /// Output side (paper: 160).
    pub size: usize,
    /// Clips per video in the test view (paper: 2).
    pub test_clips: usize,
    pub finetune: FinetuneAug,
    pub pretrain: PretrainAug,
    /// Training views: decode with the short side scaled to this (None = stored size).
    pub train_short_side: Option<usize>,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl ViewConfig {
    pub fn new(kind: ViewKind) -> Self {
        Self {
            kind,
            clip: ClipSpec::default(),
            size: 160,
            test_clips: 2,
            finetune: FinetuneAug::default(),
            pretrain: PretrainAug::default(),
            train_short_side: None,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        }
    }

    pub fn test() -> Self {
        Self::new(ViewKind::Test)
    }

    /// Clips per file this view yields.
    pub fn clips_per_video(&self) -> usize {
        if self.kind == ViewKind::Test {
            self.test_clips.max(1)
        } else {
            1
        }
    }

    /// The size frames are decoded at: the test view's short side, else the training views'
    /// `train_short_side` or the stored size.
    pub fn decode_resize(&self) -> Resize {
        match self.kind {
            ViewKind::Test => Resize::ShortSide(self.size),
            _ => self
                .train_short_side
                .map(Resize::ShortSide)
                .unwrap_or(Resize::Native),
        }
    }

    /// `[3, T, H, W]` of one clip.
    pub fn clip_shape(&self) -> [usize; 4] {
        [3, self.clip.frames, self.size, self.size]
    }
}

/// One normalised clip `[3, T, H, W]` and the frames it was made of.
#[derive(Debug, Clone)]
pub struct ClipTensor {
    pub data: Vec<f32>,
    pub shape: [usize; 4],
    pub frame_indices: Vec<usize>,
}

/// Clips of one file plus the warnings met reading it.
#[derive(Debug, Clone)]
pub struct LoadedClips {
    pub clips: Vec<ClipTensor>,
    pub frames_in_file: usize,
    /// Frames that went through the decoder.
    pub frames_decoded: usize,
    pub warnings: Vec<String>,
    /// CPU seconds spent reading files, decoding (incl. resize in the decoder) and
    /// transforming.
    pub read_s: f64,
    pub decode_s: f64,
    pub transform_s: f64,
    /// What the frame pack held for this file (`None` without a pack).
    pub pack: Option<PackLookup>,
}

/// Loads the clips `cfg` asks for from a file or frame folder. `rng` drives sampling and
/// augmentation (unused by the test view).
pub fn load_clips(
    path: &Path,
    cfg: &ViewConfig,
    threads: usize,
    rng: &mut impl Rng,
) -> DataResult<LoadedClips> {
    load_clips_packed(path, None, cfg, threads, rng)
}

/// [`load_clips`], taking the frames from `pack` where it holds them at the size this view
/// decodes at (the clips are the same either way).
pub fn load_clips_packed(
    path: &Path,
    pack: Option<&Arc<FramePack>>,
    cfg: &ViewConfig,
    threads: usize,
    rng: &mut impl Rng,
) -> DataResult<LoadedClips> {
    let t0 = thread_cpu_seconds();
    let opts = DecodeOptions {
        threads,
        resize: cfg.decode_resize(),
        ..Default::default()
    };
    let (mut src, pack) = ClipSource::open_packed(path, pack, &opts)?;
    let len = src.len();
    let index_sets: Vec<Vec<usize>> = match cfg.kind {
        ViewKind::Test => cfg.clip.test_indices(len, cfg.test_clips),
        ViewKind::Finetune => vec![cfg.clip.train_indices(len, rng)],
        ViewKind::Pretrain => vec![cfg.clip.pretrain_indices(len, rng)],
    };
    // Decode the union of all clips' frames once.
    let mut union: Vec<usize> = index_sets.iter().flatten().copied().collect();
    union.sort_unstable();
    union.dedup();
    let decoded = src.read(&union, &opts)?;
    let decode_s = thread_cpu_seconds() - t0 - decoded.read_s;
    let t1 = thread_cpu_seconds();
    let pick = |idx: &[usize]| -> Vec<Frame> {
        idx.iter()
            .map(|i| decoded.frames[union.binary_search(i).unwrap()].clone())
            .collect()
    };
    let mut clips = Vec::with_capacity(index_sets.len());
    for idx in &index_sets {
        // Each distinct frame is transformed once: every transform draws its parameters once
        // per clip, so a repeated index (a short video) gives a repeated output.
        let mut distinct = idx.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let frames = pick(&distinct);
        let (frames, erase) = match cfg.kind {
            ViewKind::Test => (center_crop(&frames, cfg.size, cfg.size), false),
            ViewKind::Finetune => {
                let a = &cfg.finetune;
                let mut frames = frames;
                if let Some(ra) = &a.rand_augment {
                    rand_augment(&mut frames, ra, rng);
                }
                let frames = random_resized_crop(&frames, cfg.size, a.scale, a.ratio, rng);
                (random_flip(frames, a.flip_prob, rng), a.erasing.is_some())
            }
            ViewKind::Pretrain => {
                let a = &cfg.pretrain;
                let frames = match a.fixed_crop {
                    Some(rect) => fixed_crop(&frames, rect),
                    None => frames,
                };
                (multi_scale_crop(&frames, cfg.size, &a.scales, rng), false)
            }
        };
        let slots: Vec<&Frame> = idx
            .iter()
            .map(|i| &frames[distinct.binary_search(i).unwrap()])
            .collect();
        let mut data = to_normalized_tensor(&slots, cfg.mean, cfg.std);
        if erase && let Some(er) = &cfg.finetune.erasing {
            er.apply(&mut data, cfg.clip.frames, cfg.size, cfg.size, rng);
        }
        clips.push(ClipTensor {
            data,
            shape: cfg.clip_shape(),
            frame_indices: idx.clone(),
        });
    }
    Ok(LoadedClips {
        clips,
        frames_in_file: len,
        frames_decoded: decoded.frames_decoded,
        warnings: decoded.warnings,
        read_s: decoded.read_s,
        decode_s,
        transform_s: thread_cpu_seconds() - t1,
        pack,
    })
}
