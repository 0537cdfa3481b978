use std::path::PathBuf;

/// Errors reading or writing session files; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: unsupported format {found} (this build reads format 1)")]
    Format { path: PathBuf, found: u32 },
}

impl SessionError {
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> SessionError + '_ {
        move |source| SessionError::Io {
            path: path.to_path_buf(),
            source,
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
        matches!(self, SessionError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
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
