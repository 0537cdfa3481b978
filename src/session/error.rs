use std::path::PathBuf;

/// Errors reading or writing session files; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The OS error is part of the message, not a `source` (so `{:#}` chains do not print it
    /// twice).
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: unsupported format {found} (this build reads format 1)")]
    Format { path: PathBuf, found: u32 },
}

impl SessionError {
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> SessionError + '_ {
        move |error| SessionError::Io {
            path: path.to_path_buf(),
            error,
        }
    }
    pub fn parse(path: &std::path::Path, message: impl std::fmt::Display) -> SessionError {
        SessionError::Parse {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
    /// True when the file simply does not exist (a run folder still being created or deleted).
    pub fn is_not_found(&self) -> bool {
        matches!(self, SessionError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound)
    }
}

pub(crate) fn check_format(path: &std::path::Path, found: u32) -> Result<(), SessionError> {
    if found == super::FORMAT {
        Ok(())
    } else {
        Err(SessionError::Format {
            path: path.to_path_buf(),
            found,
        })
    }
}
