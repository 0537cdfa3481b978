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
}
