//! Errors of the data pipeline: every one names the file and says what is wrong with it.

use std::path::PathBuf;

/// A file (or folder, or manifest) that could not be turned into frames.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct DataError {
    pub path: PathBuf,
    pub kind: DataErrorKind,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DataErrorKind {
    #[error("no such file or folder")]
    NotFound,
    #[error("cannot read: {0}")]
    Io(String),
    #[error("empty file (0 bytes)")]
    Empty,
    #[error("not a video file FFmpeg can read ({0})")]
    NotAVideo(String),
    #[error("has no video stream")]
    NoVideoStream,
    #[error("truncated or damaged: {0}")]
    Truncated(String),
    #[error("no frame could be decoded ({0})")]
    NoFrames(String),
    #[error("decoding failed: {0}")]
    Decode(String),
    #[error("folder has no .jpg/.jpeg/.png frames")]
    EmptyFolder,
    #[error("unreadable image: {0}")]
    Image(String),
    #[error("video files need the `video` feature (built without FFmpeg); use frame folders")]
    VideoSupportMissing,
    #[error("{0}")]
    Other(String),
}

impl DataError {
    pub fn new(path: impl Into<PathBuf>, kind: DataErrorKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    /// An I/O error on `path`: "no such file or folder" when it is missing.
    pub fn io(path: impl Into<PathBuf>, e: &std::io::Error) -> Self {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            DataErrorKind::NotFound
        } else {
            DataErrorKind::Io(e.to_string())
        };
        Self::new(path, kind)
    }
}

pub type DataResult<T> = Result<T, DataError>;
