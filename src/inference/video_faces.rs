//! The main face through one video: MTCNN on every `every`-th frame, linked into tracks,
//! smoothed and interpolated (`faces::track`). Frames are decoded in chunks, so a long video
//! needs memory for one chunk only; large frames are detected on a copy with the short side
//! at most `detect_side` px and the boxes scaled back (MTCNN's pyramid at full HD costs ~9×
//! that of 360p for the same faces).

use anyhow::{Context, Result};
use burn::prelude::Backend;

use crate::data::source::{ClipSource, DecodeOptions};
use crate::faces::{
    Face, FaceDetector, TrackConfig, TrackResult, detect_scaled, sampled_frames, track,
};

#[derive(Debug, Clone, Copy)]
pub struct FaceSearch {
    /// Detect on every `every`-th frame (and the last).
    pub every: usize,
    /// Short side of the copy the detector sees (0: full resolution).
    pub detect_side: usize,
    pub track: TrackConfig,
}

impl Default for FaceSearch {
    fn default() -> Self {
        Self {
            every: 5,
            detect_side: 360,
            track: TrackConfig::default(),
        }
    }
}

/// Frames decoded and detected per chunk.
const CHUNK: usize = 32;

/// Tracks the main face of the `len`-frame video behind `source`.
pub fn find_faces<B: Backend>(
    detector: &FaceDetector<B>,
    source: &mut ClipSource,
    len: usize,
    search: &FaceSearch,
    decode: &DecodeOptions,
) -> Result<TrackResult> {
    let examined = sampled_frames(len, search.every);
    let mut per_frame: Vec<Option<Vec<Face>>> = vec![None; len];
    for chunk in examined.chunks(CHUNK) {
        let decoded = source.read(chunk, decode)?;
        let faces = detect_scaled(detector, &decoded.frames, search.detect_side);
        for (&i, f) in chunk.iter().zip(faces) {
            per_frame[i] = Some(f);
        }
    }
    track(&per_frame, &search.track).context("tracking the faces")
}
