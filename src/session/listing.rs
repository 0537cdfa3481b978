//! Listing a folder's files of one kind (evaluation reports, themes, run configs).

use std::path::{Path, PathBuf};

/// The files directly in `dir` whose extension is `ext`, sorted by name; none when the
/// folder is missing or unreadable (a folder that does not exist yet is an empty list).
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// The folders directly in `dir` whose names do not start with a dot (those are partial
/// writes), sorted by path; none when `dir` is missing or unreadable.
pub fn visible_subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_extension_asked_for_sorted_and_a_missing_folder_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.json", "a.json", "c.toml", "json", "d.json.tmp"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let names: Vec<String> = files_with_extension(dir.path(), "toml")
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["c.toml"]);
        let json = files_with_extension(dir.path(), "json");
        assert_eq!(json.first().unwrap().file_name().unwrap(), "a.json");
        assert!(files_with_extension(&dir.path().join("missing"), "json").is_empty());
    }

    #[test]
    fn subfolders_skip_files_and_dot_folders() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b", "a", ".partial-c"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("file"), "").unwrap();
        let names: Vec<String> = visible_subfolders(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(visible_subfolders(&dir.path().join("missing")).is_empty());
    }
}
