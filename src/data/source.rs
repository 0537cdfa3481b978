//! One clip source, whatever is on disk: a frame folder or (with the `video` feature) a video
//! file. Frames are addressed by display index.

use std::path::Path;

#[cfg(feature = "video")]
use super::decode::VideoReader;
pub use super::decode_options::{DecodeOptions, Resize};
use super::error::{DataError, DataErrorKind, DataResult};
use super::folder::FrameFolder;
use super::frame::Frame;

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

    /// Number of frames (counted, not taken from a header).
    pub fn len(&self) -> usize {
        match self {
            ClipSource::Folder(f) => f.len(),
            #[cfg(feature = "video")]
            ClipSource::Video(v) => v.len(),
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
        }
    }

    /// Decodes the frames at `indices`, resized as asked.
    pub fn read(&mut self, indices: &[usize], opts: &DecodeOptions) -> DataResult<Decoded> {
        match self {
            ClipSource::Folder(folder) => {
                let mut warnings = Vec::new();
                let mut read_s = 0.0;
                let frames = folder.read_indices(indices, &mut warnings, &mut read_s)?;
                let frames = match opts.resize {
                    Resize::Native => frames,
                    r => {
                        // Resize each distinct frame once, with one plan per frame size.
                        let mut done: Vec<(usize, Frame)> = Vec::new();
                        let mut plan = None;
                        indices
                            .iter()
                            .zip(frames)
                            .map(|(&i, f)| {
                                if let Some((_, r)) = done.iter().find(|(j, _)| *j == i) {
                                    return r.clone();
                                }
                                let (w, h) = r.apply(f.width, f.height);
                                let out = f.resize_reusing(w, h, &mut plan);
                                done.push((i, out.clone()));
                                out
                            })
                            .collect()
                    }
                };
                let mut distinct = indices.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                Ok(Decoded {
                    frames,
                    warnings,
                    frames_decoded: distinct.len(),
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
