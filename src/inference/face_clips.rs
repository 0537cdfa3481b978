//! One raw video → its aligned face clip on disk, the way DFEW and FERV39k ship theirs: a
//! folder of numbered JPEGs (`00001.jpg`, …) or an mp4, one square face crop per source
//! frame. The clip is written under a temporary name and renamed when complete, so an
//! interrupted batch leaves no half clip and a rerun skips what is finished.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::video_faces::{FaceSearch, find_faces};
use crate::backend::Cpu;
use crate::data::frame::Frame;
use crate::data::source::{ClipSource, DecodeOptions};
use crate::faces::{AlignConfig, Face, FaceDetector, TrackSummary, align};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipFormat {
    /// A folder of JPEGs (the DFEW layout).
    Frames,
    /// One H.264 mp4 at the source frame rate.
    Mp4,
}

#[derive(Debug, Clone)]
pub struct FaceClipOptions {
    pub search: FaceSearch,
    pub align: AlignConfig,
    pub format: ClipFormat,
    /// JPEG quality (1–100).
    pub quality: u8,
}

/// What became of one video.
#[derive(Debug, Clone)]
pub enum FaceClipOutcome {
    Written {
        out: PathBuf,
        faces: TrackSummary,
    },
    /// The output existed from an earlier run.
    AlreadyDone {
        out: PathBuf,
    },
    /// The video has no face on any examined frame: nothing written.
    NoFace {
        frames: usize,
    },
}

/// Where the clip of `name` goes under `dir`.
pub fn output_path(dir: &Path, name: &str, format: ClipFormat) -> PathBuf {
    match format {
        ClipFormat::Frames => dir.join(name),
        ClipFormat::Mp4 => dir.join(format!("{name}.mp4")),
    }
}

/// The face on frame `i`, or the nearest frame's where the face is missing (the crop stays
/// where the face was, instead of jumping to the frame's centre; such frames are counted).
fn face_or_nearest(faces: &[Option<Face>], i: usize) -> Option<Face> {
    if let Some(f) = faces[i] {
        return Some(f);
    }
    (1..faces.len()).find_map(|d| {
        let before = i.checked_sub(d).and_then(|j| faces[j]);
        let after = faces.get(i + d).copied().flatten();
        before.or(after)
    })
}

/// `frame` as a JPEG of `quality` (1–100) at `path`.
pub fn write_jpeg(path: &Path, frame: &Frame, quality: u8) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
    let mut w = std::io::BufWriter::new(file);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, quality)
        .encode(
            &frame.data,
            frame.width as u32,
            frame.height as u32,
            image::ExtendedColorType::Rgb8,
        )
        .with_context(|| path.display().to_string())
}

/// Frames decoded and cropped per chunk.
const CHUNK: usize = 64;

/// Detects, tracks and crops the main face of `video` into `output_path(dir, name, …)`.
pub fn write_face_clip(
    detector: &FaceDetector<Cpu>,
    video: &Path,
    dir: &Path,
    name: &str,
    opts: &FaceClipOptions,
) -> Result<FaceClipOutcome> {
    let out = output_path(dir, name, opts.format);
    if out.exists() {
        return Ok(FaceClipOutcome::AlreadyDone { out });
    }
    let decode = DecodeOptions::default();
    let mut source = ClipSource::open(video, &decode)?;
    let len = source.len();
    if len == 0 {
        bail!("{}: has no frames", video.display());
    }
    let tracked = find_faces(detector, &mut source, len, &opts.search, &decode)?;
    if tracked.faces.iter().all(Option::is_none) {
        return Ok(FaceClipOutcome::NoFace { frames: len });
    }
    let partial = dir.join(format!(
        ".partial-{}{}",
        name,
        if opts.format == ClipFormat::Mp4 {
            ".mp4"
        } else {
            ""
        }
    ));
    if partial.is_dir() {
        std::fs::remove_dir_all(&partial).ok();
    }
    let written = write_frames(&mut source, len, &tracked.faces, &partial, opts, video);
    if let Err(e) = written {
        std::fs::remove_dir_all(&partial).ok();
        std::fs::remove_file(&partial).ok();
        return Err(e);
    }
    std::fs::rename(&partial, &out)
        .with_context(|| format!("{} → {}", partial.display(), out.display()))?;
    Ok(FaceClipOutcome::Written {
        out,
        faces: tracked.summary,
    })
}

fn write_frames(
    source: &mut ClipSource,
    len: usize,
    faces: &[Option<Face>],
    partial: &Path,
    opts: &FaceClipOptions,
    video: &Path,
) -> Result<()> {
    let decode = DecodeOptions::default();
    #[cfg(feature = "video")]
    let mut writer = match opts.format {
        ClipFormat::Mp4 => {
            let fps = source.fps().unwrap_or(25.0).round().max(1.0) as i32;
            let spec = crate::data::encode::EncodeSpec::new(opts.align.size, opts.align.size, fps);
            Some(crate::data::encode::VideoWriter::create(partial, spec)?)
        }
        ClipFormat::Frames => None,
    };
    #[cfg(not(feature = "video"))]
    if opts.format == ClipFormat::Mp4 {
        bail!("writing mp4 needs the `video` feature (FFmpeg)");
    }
    if opts.format == ClipFormat::Frames {
        std::fs::create_dir_all(partial).with_context(|| partial.display().to_string())?;
    }
    let all: Vec<usize> = (0..len).collect();
    for chunk in all.chunks(CHUNK) {
        let decoded = source.read(chunk, &decode)?;
        for (&i, frame) in chunk.iter().zip(&decoded.frames) {
            let face = face_or_nearest(faces, i)
                .with_context(|| format!("{}: no face to crop frame {i}", video.display()))?;
            let crop = align(frame, &face, &opts.align);
            match opts.format {
                ClipFormat::Frames => write_jpeg(
                    &partial.join(format!("{:05}.jpg", i + 1)),
                    &crop,
                    opts.quality,
                )?,
                #[cfg(feature = "video")]
                ClipFormat::Mp4 => writer
                    .as_mut()
                    .expect("mp4 writer")
                    .write(&crop, i as i64)?,
                #[cfg(not(feature = "video"))]
                ClipFormat::Mp4 => unreachable!("refused above"),
            }
        }
    }
    #[cfg(feature = "video")]
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32) -> Option<Face> {
        Some(Face {
            bbox: [x, 0.0, x + 10.0, 10.0],
            score: 1.0,
            landmarks: [[0.0; 2]; 5],
        })
    }

    #[test]
    fn a_missing_frame_holds_the_nearest_face() {
        let faces = vec![face(1.0), None, None, face(4.0), None];
        assert_eq!(face_or_nearest(&faces, 1).unwrap().bbox[0], 1.0);
        assert_eq!(face_or_nearest(&faces, 2).unwrap().bbox[0], 4.0);
        assert_eq!(face_or_nearest(&faces, 4).unwrap().bbox[0], 4.0);
        assert!(face_or_nearest(&[None, None], 0).is_none());
    }
}
