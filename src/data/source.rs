//! One clip source, whatever is on disk: a frame folder or (with the `video` feature) a video
//! file. Frames are addressed by display index.

use std::path::Path;
use std::sync::Arc;

#[cfg(feature = "video")]
use super::decode::VideoReader;
pub use super::decode_options::{DecodeOptions, Resize};
use super::error::{DataError, DataErrorKind, DataResult};
use super::folder::FrameFolder;
use super::frame::Frame;
use super::frame_pack::{FramePack, PackLookup};
use super::thread_clock::thread_cpu_seconds;

/// Frames plus the warnings met while reading them (recovered problems).
#[derive(Debug, Clone)]
pub struct Decoded {
    pub frames: Vec<Frame>,
    pub warnings: Vec<String>,
    /// Frames that went through the decoder (video: every frame from the keyframe on;
    /// folder: each distinct image once).
    pub frames_decoded: usize,
    /// Seconds spent reading files before decoding them (frame folders; a video's reads
    /// happen inside its decoder and count as decoding).
    pub read_s: f64,
}

pub enum ClipSource {
    Folder(FrameFolder),
    #[cfg(feature = "video")]
    Video(Box<VideoReader>),
    /// A source's frames in a frame pack (entry number).
    Packed(Arc<FramePack>, usize),
}

impl ClipSource {
    /// Opens a folder of frames or a video file.
    pub fn open(path: &Path, opts: &DecodeOptions) -> DataResult<Self> {
        if path.is_dir() {
            return Ok(ClipSource::Folder(FrameFolder::open(path)?));
        }
        if !path.exists() {
            return Err(DataError::new(path, DataErrorKind::NotFound));
        }
        #[cfg(feature = "video")]
        {
            Ok(ClipSource::Video(Box::new(VideoReader::open_with(
                path,
                opts.force_seek,
            )?)))
        }
        #[cfg(not(feature = "video"))]
        {
            let _ = opts;
            Err(DataError::new(path, DataErrorKind::VideoSupportMissing))
        }
    }

    /// The source's frames from `pack` when it holds them at the size `opts` decodes at
    /// (and the source is unchanged since), else the source itself. Also says what the pack
    /// lookup found (`None` without a pack).
    pub fn open_packed(
        path: &Path,
        pack: Option<&Arc<FramePack>>,
        opts: &DecodeOptions,
    ) -> DataResult<(Self, Option<PackLookup>)> {
        let Some(pack) = pack else {
            return Ok((Self::open(path, opts)?, None));
        };
        match pack.lookup(path, opts.resize) {
            PackLookup::Hit(entry) => Ok((
                ClipSource::Packed(pack.clone(), entry),
                Some(PackLookup::Hit(entry)),
            )),
            other => Ok((Self::open(path, opts)?, Some(other))),
        }
    }

    /// Number of frames (counted, not taken from a header).
    pub fn len(&self) -> usize {
        match self {
            ClipSource::Folder(f) => f.len(),
            #[cfg(feature = "video")]
            ClipSource::Video(v) => v.len(),
            ClipSource::Packed(pack, entry) => pack.video(*entry).frames,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Average frame rate of a video file (a frame folder has none).
    pub fn fps(&self) -> Option<f64> {
        match self {
            ClipSource::Folder(_) => None,
            #[cfg(feature = "video")]
            ClipSource::Video(v) => Some(v.info.avg_fps).filter(|f| f.is_finite() && *f > 0.0),
            ClipSource::Packed(pack, entry) => pack.video(*entry).fps,
        }
    }

    /// Decodes the frames at `indices`, resized as asked.
    pub fn read(&mut self, indices: &[usize], opts: &DecodeOptions) -> DataResult<Decoded> {
        match self {
            ClipSource::Folder(folder) => {
                let mut warnings = Vec::new();
                let mut read_s = 0.0;
                let frames = folder.read_indices(indices, &mut warnings, &mut read_s)?;
                Ok(Decoded {
                    frames: resize_each_once(indices, frames, opts.resize),
                    warnings,
                    frames_decoded: distinct_count(indices),
                    read_s,
                })
            }
            ClipSource::Packed(pack, entry) => {
                let t0 = thread_cpu_seconds();
                let v = pack.video(*entry);
                if let Some(&bad) = indices.iter().find(|&&i| i >= v.frames) {
                    return Err(DataError::new(
                        &v.source,
                        DataErrorKind::Other(format!(
                            "frame {bad} asked for, the pack holds {}",
                            v.frames
                        )),
                    ));
                }
                let frames = indices
                    .iter()
                    .map(|&i| Frame::new(v.width, v.height, pack.frame(*entry, i).to_vec()))
                    .collect();
                let read_s = thread_cpu_seconds() - t0;
                // A pack at another size serves only native folder frames (see `lookup`).
                let frames = if opts.resize == pack.size().resize() {
                    frames
                } else {
                    resize_each_once(indices, frames, opts.resize)
                };
                Ok(Decoded {
                    frames,
                    warnings: v.warnings.clone(),
                    frames_decoded: 0,
                    read_s,
                })
            }
            #[cfg(feature = "video")]
            ClipSource::Video(v) => {
                let (frames, warnings) = v.read_frames(indices, opts)?;
                Ok(Decoded {
                    frames,
                    warnings,
                    frames_decoded: v.frames_decoded,
                    read_s: 0.0,
                })
            }
        }
    }
}

fn distinct_count(indices: &[usize]) -> usize {
    let mut distinct = indices.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len()
}

/// Resizes native frames as `resize` asks, each distinct index once, with one plan per frame
/// size (the folder reader's resize; packed folder frames take the same path).
fn resize_each_once(indices: &[usize], frames: Vec<Frame>, resize: Resize) -> Vec<Frame> {
    if resize == Resize::Native {
        return frames;
    }
    let mut done: Vec<(usize, Frame)> = Vec::new();
    let mut plan = None;
    indices
        .iter()
        .zip(frames)
        .map(|(&i, f)| {
            if let Some((_, r)) = done.iter().find(|(j, _)| *j == i) {
                return r.clone();
            }
            let (w, h) = resize.apply(f.width, f.height);
            let out = f.resize_reusing(w, h, &mut plan);
            done.push((i, out.clone()));
            out
        })
        .collect()
}
