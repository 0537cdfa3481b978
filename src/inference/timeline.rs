//! One video scored window by window: the per-window class probabilities (the timeline) and
//! their mean (the video's prediction). Frames are decoded on a second thread, a batch of
//! windows ahead of the model, so decoding and the forward pass overlap; only one batch of
//! frames is held at a time, so an hour-long video needs no more memory than a short one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use burn::prelude::Backend;

use super::clip_frames::ClipFrames;
use super::scorer::{ClipScore, Scorer, mean_of};
use super::video_faces::{FaceSearch, find_faces};
use super::windows::{Window, sliding_windows, step_frames};
use crate::backend::Cpu;
use crate::data::sampling::ClipSpec;
use crate::data::source::{ClipSource, DecodeOptions};
use crate::faces::{AlignConfig, Face, FaceDetector, TrackSummary};

/// Frame rate assumed for a frame folder when none is given.
pub const FOLDER_FPS: f64 = 25.0;

#[derive(Debug, Clone)]
pub struct TimelineOptions {
    /// Seconds between window starts (None: half a window).
    pub step_s: Option<f64>,
    /// Frame rate to use instead of the file's (frame folders have none).
    pub fps: Option<f64>,
    /// Windows per forward pass.
    pub batch: usize,
    /// FFmpeg decoder threads.
    pub decode_threads: usize,
}

#[derive(Debug, Clone)]
pub struct WindowScore {
    pub window: Window,
    pub start_s: f64,
    /// End of the window's last frame.
    pub end_s: f64,
    pub score: ClipScore,
}

#[derive(Debug, Clone)]
pub struct Timeline {
    pub path: PathBuf,
    pub frames_in_file: usize,
    pub fps: f64,
    /// The frame rate came from the file or `--fps`, not the folder default.
    pub fps_known: bool,
    pub clip: ClipSpec,
    /// Frames between window starts.
    pub step: usize,
    pub windows: Vec<WindowScore>,
    /// Mean over windows of the probabilities (regression: of the outputs).
    pub probs: Vec<f32>,
    pub features: Vec<f32>,
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// What the face step found (None without it).
    pub faces: Option<TrackSummary>,
    /// The main face on every frame (None without the face step).
    pub face_track: Option<Vec<Option<Face>>>,
}

/// The face step of a raw video: the detector (on the CPU), how to search and how to crop.
pub struct FaceStep<'a> {
    pub detector: &'a FaceDetector<Cpu>,
    pub search: FaceSearch,
    pub align: AlignConfig,
}

/// Scores every window of the video or frame folder at `path` (cut to the tracked face when
/// `faces` is given); `progress(done, total)` after each batch.
pub fn score_video<B: Backend>(
    scorer: &Scorer<B>,
    frames: &ClipFrames,
    faces: Option<&FaceStep>,
    path: &Path,
    opts: &TimelineOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Timeline> {
    let t0 = Instant::now();
    let decode = DecodeOptions {
        threads: opts.decode_threads.max(1),
        ..Default::default()
    };
    let mut source = ClipSource::open(path, &decode)?;
    let len = source.len();
    if len == 0 {
        return Err(anyhow!("{}: has no frames", path.display()));
    }
    let (fps, fps_known) = match (opts.fps, source.fps()) {
        (Some(f), _) => (f, true),
        (None, Some(f)) => (f, true),
        (None, None) => (FOLDER_FPS, false),
    };
    let clip = ClipSpec {
        frames: scorer.config.encoder.frames,
        stride: scorer.input.stride,
    };
    let (frames, face_summary, face_track) = match faces {
        None => (frames.clone(), None, None),
        Some(step) => {
            let t = find_faces(step.detector, &mut source, len, &step.search, &decode)
                .with_context(|| format!("{}: finding the face", path.display()))?;
            (
                frames.with_faces(t.faces.clone(), step.align),
                Some(t.summary),
                Some(t.faces),
            )
        }
    };
    let frames = &frames;
    let step = step_frames(opts.step_s, fps, clip);
    let windows = sliding_windows(len, clip, step);
    let batch = opts.batch.max(1);
    let total = windows.len();
    let mut scored: Vec<WindowScore> = Vec::with_capacity(total);
    let mut warnings = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let chunks: Vec<&[Window]> = windows.chunks(batch).collect();
        let reader = scope.spawn(move || {
            for chunk in chunks {
                let made = frames.make(&mut source, chunk, &decode);
                let failed = made.is_err();
                if tx.send(made).is_err() || failed {
                    break;
                }
            }
        });
        for (chunk, made) in windows.chunks(batch).zip(rx.iter()) {
            let (clips, chunk_warnings) = made?;
            warnings.extend(chunk_warnings);
            let scores = scorer.score(clips, chunk.len())?;
            for (w, score) in chunk.iter().zip(scores) {
                scored.push(WindowScore {
                    start_s: w.first as f64 / fps,
                    end_s: (w.last + 1) as f64 / fps,
                    window: w.clone(),
                    score,
                });
            }
            progress(scored.len(), total);
        }
        reader
            .join()
            .map_err(|_| anyhow!("{}: the frame reader panicked", path.display()))?;
        Ok(())
    })?;
    if scored.len() != total {
        return Err(anyhow!(
            "{}: {} of {total} windows scored",
            path.display(),
            scored.len()
        ));
    }
    let probs = mean_of(scored.iter().map(|w| w.score.probs.as_slice()));
    let features = mean_of(scored.iter().map(|w| w.score.features.as_slice()));
    warnings.sort();
    warnings.dedup();
    Ok(Timeline {
        path: path.to_path_buf(),
        frames_in_file: len,
        fps,
        fps_known,
        clip,
        step,
        windows: scored,
        probs,
        features,
        warnings,
        seconds: t0.elapsed().as_secs_f64(),
        faces: face_summary,
        face_track,
    })
}
