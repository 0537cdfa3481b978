//! One video's timeline kept for looking at (`infer --inspect DIR`, the workbench's Inspect
//! view; layout in `session::inspection`): the face on every frame, the middle frame of each
//! window as a small JPEG, the timeline, and on demand the attention maps of a window's face
//! clip.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use burn::prelude::Backend;

use super::clip_frames::ClipFrames;
use super::face_clips::write_jpeg;
use super::scorer::Scorer;
use super::timeline::Timeline;
use super::windows::Window;
use crate::data::frame::Frame;
use crate::data::source::{ClipSource, DecodeOptions};
use crate::faces::{AlignConfig, AlignMode, Face};
use crate::model::input_spec::InputSpec;
use crate::session::inspection::{
    FaceCounts, FaceMark, InspectedWindow, Inspection, InspectionDir, write_faces,
};
use crate::train::attn_artifacts::write_attention_maps;

/// Longest side of the stored window frames.
pub const SHOWN_SIDE: usize = 480;

/// Window frames decoded at a time (full-size frames: a long video's would not fit at once).
const CHUNK: usize = 16;

fn mark(f: &Face) -> FaceMark {
    FaceMark {
        bbox: f.bbox,
        landmarks: f.landmarks,
    }
}

fn face(m: &FaceMark) -> Face {
    Face {
        bbox: m.bbox,
        score: 1.0,
        landmarks: m.landmarks,
    }
}

/// The run a checkpoint of the session belongs to (`runs/<id>/checkpoints/<file>`).
pub fn run_of_checkpoint(checkpoint: &Path) -> Option<String> {
    let folder = checkpoint.parent()?;
    (folder.file_name()? == "checkpoints")
        .then(|| folder.parent()?.file_name())
        .flatten()
        .map(|n| n.to_string_lossy().into_owned())
}

/// What the inspection records beside the timeline.
pub struct InspectionSource<'a> {
    pub checkpoint: &'a Path,
    pub spec: &'a InputSpec,
    /// How faces were cropped (None: `--no-faces`).
    pub align: Option<AlignMode>,
}

/// Writes `faces.json`, the window frames and `inspection.json` for a scored video.
pub fn write_inspection(
    t: &Timeline,
    dir: &InspectionDir,
    source: &InspectionSource,
) -> Result<Inspection> {
    std::fs::create_dir_all(dir.root.join("frames"))
        .with_context(|| format!("{}: creating the inspection folder", dir.root.display()))?;
    let marks: Vec<Option<FaceMark>> = t
        .face_track
        .as_ref()
        .map(|track| track.iter().map(|f| f.as_ref().map(mark)).collect())
        .unwrap_or_default();
    write_faces(dir, &marks)?;
    let decode = DecodeOptions::default();
    let mut video = ClipSource::open(&t.path, &decode)?;
    let shown: Vec<usize> = t
        .windows
        .iter()
        .map(|w| w.window.frames[w.window.frames.len() / 2])
        .collect();
    let mut frame_size = [0, 0];
    let mut written = 0;
    for chunk in shown.chunks(CHUNK) {
        let decoded = video.read(chunk, &decode)?;
        for frame in &decoded.frames {
            frame_size = [frame.width, frame.height];
            save_shown(frame, &dir.frame(written))?;
            written += 1;
        }
    }
    let windows = t
        .windows
        .iter()
        .zip(&shown)
        .map(|(w, &f)| InspectedWindow {
            first: w.window.first,
            last: w.window.last,
            frames: w.window.frames.clone(),
            start_s: w.start_s,
            end_s: w.end_s,
            probs: w.score.probs.clone(),
            shown_frame: f,
            face: marks.get(f).copied().flatten(),
        })
        .collect();
    let insp = Inspection {
        format: crate::session::FORMAT,
        video: absolute(&t.path),
        checkpoint: absolute(source.checkpoint),
        run: run_of_checkpoint(source.checkpoint),
        labels: (0..t.probs.len()).map(|i| source.spec.label(i)).collect(),
        regression: source.spec.regression,
        fps: t.fps,
        frames: t.frames_in_file,
        frame_size,
        clip_frames: t.clip.frames,
        clip_stride: t.clip.stride,
        align: source.align.map(align_name).unwrap_or_default().into(),
        windows,
        probs: t.probs.clone(),
        faces: t.faces.as_ref().map(|f| FaceCounts {
            detected: f.detected,
            interpolated: f.interpolated,
            missing: f.missing,
        }),
        warnings: t.warnings.clone(),
        seconds: t.seconds,
        written: crate::session::now_unix(),
    };
    insp.write(dir)?;
    Ok(insp)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

pub fn align_name(mode: AlignMode) -> &'static str {
    match mode {
        AlignMode::Landmarks => "landmarks",
        AlignMode::Box => "box",
    }
}

fn align_mode(name: &str) -> Option<AlignMode> {
    match name {
        "landmarks" => Some(AlignMode::Landmarks),
        "box" => Some(AlignMode::Box),
        _ => None,
    }
}

/// The frame at most [`SHOWN_SIDE`] px on its long side, as a JPEG.
fn save_shown(frame: &Frame, path: &Path) -> Result<()> {
    let long = frame.width.max(frame.height).max(1);
    let small;
    let shown = if long > SHOWN_SIDE {
        let w = (frame.width * SHOWN_SIDE).div_ceil(long).max(1);
        let h = (frame.height * SHOWN_SIDE).div_ceil(long).max(1);
        small = frame.resize(w, h);
        &small
    } else {
        frame
    };
    write_jpeg(path, shown, 85)
}

/// Writes the attention maps of window `index`'s clip (cut to the recorded faces, as it was
/// scored) into `dir.attn(index)`.
pub fn write_window_attention<B: Backend>(
    scorer: &Scorer<B>,
    dir: &InspectionDir,
    insp: &Inspection,
    index: usize,
) -> Result<PathBuf> {
    let Some(w) = insp.windows.get(index) else {
        bail!(
            "{}: window {} does not exist (the video has {} windows, 1–{0})",
            dir.record().display(),
            index + 1,
            insp.windows.len()
        );
    };
    let size = scorer.config.encoder.img_size;
    let mut frames = ClipFrames::new(size, &scorer.input);
    if let Some(mode) = align_mode(&insp.align) {
        let faces: Vec<Option<Face>> = dir
            .read_faces()?
            .iter()
            .map(|m| m.as_ref().map(face))
            .collect();
        frames = frames.with_faces(
            faces,
            AlignConfig {
                mode,
                ..AlignConfig::default()
            },
        );
    }
    let decode = DecodeOptions::default();
    let mut video = ClipSource::open(&insp.video, &decode)?;
    let window = Window {
        frames: w.frames.clone(),
        first: w.first,
        last: w.last,
    };
    let (clip, _) = frames.make(&mut video, &[window], &decode)?;
    let out = dir.attn(index);
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| out.display().to_string())?;
    }
    write_attention_maps(
        scorer.probed(),
        &clip,
        index as u64,
        (&out, &dir.root),
        scorer.device(),
    )
    .map_err(|e| anyhow!("{}: {e:#}", out.display()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_frames_are_stored_at_most_480_px_on_their_long_side() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jpg");
        save_shown(&Frame::new(960, 540, vec![90; 960 * 540 * 3]), &path).unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!((img.width(), img.height()), (480, 270));
        save_shown(&Frame::new(64, 48, vec![90; 64 * 48 * 3]), &path).unwrap();
        assert_eq!(image::open(&path).unwrap().width(), 64, "small ones stay");
    }

    #[test]
    fn a_session_checkpoint_names_its_run() {
        assert_eq!(
            run_of_checkpoint(Path::new("/s/runs/finetune-x/checkpoints/step-10.mpk")).as_deref(),
            Some("finetune-x")
        );
        assert_eq!(run_of_checkpoint(Path::new("/tmp/model.safetensors")), None);
    }
}
