//! A step folder being written (reconstructions, attention maps): removed again unless the
//! writer reaches its end, so a failed write (a full disk) leaves no folder that no reader
//! will use. Readers already ignore a step without its `meta.json`.

use std::path::{Path, PathBuf};

/// Removes its folder on drop unless [`PartialDir::keep`] was called.
#[must_use]
pub struct PartialDir {
    dir: Option<PathBuf>,
}

impl PartialDir {
    /// Creates `dir` (whose parent's parent, the run folder, must exist: a run folder
    /// deleted under its worker is not brought back).
    pub fn create(dir: &Path, run_root: &Path) -> std::io::Result<Self> {
        if !run_root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: the run folder is gone", run_root.display()),
            ));
        }
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: Some(dir.to_path_buf()),
        })
    }

    pub fn keep(mut self) {
        self.dir = None;
    }
}

impl Drop for PartialDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            std::fs::remove_dir_all(dir).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_folder_is_removed_and_a_kept_one_stays() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("recon/step-000001");
        let partial = PartialDir::create(&dir, root.path()).unwrap();
        std::fs::write(dir.join("a.png"), b"x").unwrap();
        drop(partial);
        assert!(!dir.exists());
        PartialDir::create(&dir, root.path()).unwrap().keep();
        assert!(dir.is_dir());
        let gone = root.path().join("gone");
        assert!(PartialDir::create(&gone.join("recon/x"), &gone).is_err());
        assert!(!gone.exists());
    }
}
