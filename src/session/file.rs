//! `session.toml`: name, creation time, notes, and the workbench's UI state.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SessionError;
use super::error::check_format;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionFile {
    pub format: u32,
    pub name: String,
    /// RFC 3339.
    pub created: String,
    pub notes: String,
    pub ui: UiState,
}

/// What the workbench restores on the next start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct UiState {
    /// `runs`, `monitor`, `recon`, `attention` or `compare`.
    pub view: String,
    /// Run id.
    pub selected_run: String,
    pub filter: String,
    pub theme: String,
    /// The Monitor's metric, by name.
    pub metric: String,
    /// Runs marked for the Monitor's overlay and Compare's diff.
    pub marked: Vec<String>,
}

impl Default for SessionFile {
    fn default() -> Self {
        Self {
            format: super::FORMAT,
            name: String::new(),
            created: String::new(),
            notes: String::new(),
            ui: UiState::default(),
        }
    }
}

impl SessionFile {
    /// A new session named after its folder.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            created: super::now_rfc3339(),
            ..Default::default()
        }
    }

    pub fn read(path: &Path) -> Result<Self, SessionError> {
        let text = std::fs::read_to_string(path).map_err(SessionError::io(path))?;
        let file: SessionFile = toml::from_str(&text).map_err(|e| SessionError::parse(path, e))?;
        check_format(path, file.format)?;
        Ok(file)
    }

    pub fn write(&self, path: &Path) -> Result<(), SessionError> {
        let text = toml::to_string_pretty(self).map_err(|e| SessionError::parse(path, e))?;
        super::write_atomic(path, text.as_bytes())
    }

    /// Reads `session.toml` under `root`, creating the folder and the file when missing.
    pub fn open_or_create(root: &Path) -> Result<Self, SessionError> {
        let path = root.join("session.toml");
        if path.exists() {
            return Self::read(&path);
        }
        std::fs::create_dir_all(root.join("runs")).map_err(SessionError::io(root))?;
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "session".into());
        let file = Self::new(&name);
        file.write(&path)?;
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_file_is_created_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s1");
        let mut f = SessionFile::open_or_create(&root).unwrap();
        assert_eq!(f.name, "s1");
        assert!(root.join("runs").is_dir());
        f.ui.view = "monitor".into();
        f.ui.theme = "light".into();
        f.write(&root.join("session.toml")).unwrap();
        let text = std::fs::read_to_string(root.join("session.toml")).unwrap();
        assert!(text.contains("format = 1"), "{text}");
        assert_eq!(SessionFile::read(&root.join("session.toml")).unwrap(), f);
    }
}
