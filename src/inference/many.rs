//! Many videos (a manifest or a folder) scored with the model's test protocol, exactly as a
//! run's evaluation scores them: `test_clips` evenly spread clips per video, short side
//! resized and centre-cropped, probabilities averaged over the clips ("softmax averaged").
//! Decoding runs on the loader's worker threads; a video that cannot be read is listed with
//! its reason and never stops the batch.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use burn::prelude::Backend;

use super::scorer::{ClipScore, Scorer, mean_of};
use crate::data::loader::{DataOrder, Loader, LoaderConfig, LogSink};
use crate::data::manifest::{Label, ManifestEntry};
use crate::data::sampling::ClipSpec;
use crate::data::view::ViewConfig;

#[derive(Debug, Clone)]
pub struct ManyOptions {
    /// Clips per forward pass.
    pub batch: usize,
    /// Decoding threads.
    pub workers: usize,
}

#[derive(Debug, Clone)]
pub struct VideoScore {
    pub path: PathBuf,
    /// The path as the manifest wrote it.
    pub raw_path: String,
    pub label: Label,
    /// One score per test clip, in clip order.
    pub clips: Vec<ClipScore>,
    /// Mean over the clips of the probabilities (regression: of the outputs).
    pub probs: Vec<f32>,
    pub features: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct ManyScores {
    /// Scored videos in list order.
    pub videos: Vec<VideoScore>,
    /// Videos that could not be read: path and reason.
    pub skipped: Vec<(PathBuf, String)>,
    pub clips: usize,
    pub seconds: f64,
}

/// The test view the checkpoint's protocol implies.
pub fn test_view<B: Backend>(scorer: &Scorer<B>) -> ViewConfig {
    let mut view = ViewConfig::test();
    view.size = scorer.config.encoder.img_size;
    view.clip = ClipSpec {
        frames: scorer.config.encoder.frames,
        stride: scorer.input.stride,
    };
    view.test_clips = scorer.input.test_clips;
    view.mean = scorer.input.mean;
    view.std = scorer.input.std;
    view
}

/// Scores `entries`; `progress(videos done, total)` after each batch; loader warnings go to
/// `log`.
pub fn score_many<B: Backend>(
    scorer: &Scorer<B>,
    entries: &[ManifestEntry],
    opts: &ManyOptions,
    log: LogSink,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ManyScores> {
    let t0 = Instant::now();
    let view = test_view(scorer);
    let per_video = view.clips_per_video();
    let loader = Loader::new(
        entries,
        view,
        LoaderConfig {
            batch_size: opts.batch.max(1),
            workers: opts.workers.max(1),
            shuffle: false,
            drop_last: false,
            ..LoaderConfig::default()
        },
    )
    .with_log(log);
    let mut clips: BTreeMap<usize, Vec<(usize, ClipScore)>> = BTreeMap::new();
    let mut n_clips = 0;
    let mut complete = 0;
    for batch in loader.epoch(DataOrder::new(0)) {
        let n = batch.len();
        n_clips += n;
        let scores = scorer.score(batch.clips, n)?;
        for ((video, clip), score) in batch.videos.iter().zip(&batch.clip_indices).zip(scores) {
            let of_video = clips.entry(*video).or_default();
            of_video.push((*clip, score));
            complete += usize::from(of_video.len() == per_video);
        }
        progress(complete + loader.videos_skipped(), entries.len());
    }
    let stats = loader.stats();
    let mut videos = Vec::with_capacity(clips.len());
    let mut skipped = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match clips.remove(&i) {
            Some(mut c) => {
                c.sort_by_key(|(k, _)| *k);
                let clips: Vec<ClipScore> = c.into_iter().map(|(_, s)| s).collect();
                videos.push(VideoScore {
                    path: entry.path.clone(),
                    raw_path: entry.raw_path.clone(),
                    label: entry.label.clone(),
                    probs: mean_of(clips.iter().map(|s| s.probs.as_slice())),
                    features: mean_of(clips.iter().map(|s| s.features.as_slice())),
                    clips,
                });
            }
            None => {
                let shown = entry.path.display().to_string();
                let reason = stats
                    .unreadable
                    .iter()
                    .find(|r| r.starts_with(&shown))
                    .map(|r| r[shown.len()..].trim_start_matches([':', ' ']).to_string())
                    .unwrap_or_else(|| "could not be read".into());
                skipped.push((entry.path.clone(), reason));
            }
        }
    }
    Ok(ManyScores {
        videos,
        skipped,
        clips: n_clips,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
