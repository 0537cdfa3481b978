//! What the user pointed `infer` or `features` at: one clip tensor (`.npy`), one video (a
//! file or a folder of frames), or many videos (a manifest, or a folder of videos and frame
//! folders). Decided from the path alone, before anything is decoded.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::data::folder::is_frame_file;
use crate::data::manifest::{Label, LabelKind, Manifest, ManifestEntry, PathMapping};

/// Extensions read as video files when listing a folder of videos.
const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "avi", "mov", "mkv", "webm", "m4v", "mpg", "mpeg", "wmv", "flv", "3gp", "ts",
];
/// Extensions read as manifests.
const MANIFEST_EXTENSIONS: &[&str] = &["csv", "txt", "lst", "list", "tsv"];

#[derive(Debug)]
pub enum InferInput {
    /// A normalised float32 `[3, T, H, W]` array, used as is.
    Npy(PathBuf),
    /// One video file or frame folder: scored in sliding windows.
    Video(PathBuf),
    /// Many videos, one row each, scored with the test protocol.
    Many {
        /// Where the list came from (a manifest file or a folder).
        origin: PathBuf,
        entries: Vec<ManifestEntry>,
        /// Labels were read from the manifest (one class index per line).
        labelled: bool,
        /// Why a manifest's label column was not used (bad or out-of-range labels).
        labels_unused: Option<String>,
    },
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn is_video_file(path: &Path) -> bool {
    path.is_file() && VIDEO_EXTENSIONS.contains(&extension(path).as_str())
}

fn has_frames(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|it| it.flatten().any(|e| is_frame_file(&e.path())))
        .unwrap_or(false)
}

/// Classifies `path`; `classes` is the model's number of classes (a manifest's label column
/// is read when every label is a class index below it).
pub fn classify_input(path: &Path, classes: Option<usize>) -> Result<InferInput> {
    if !path.exists() {
        bail!("{}: no such file or folder", path.display());
    }
    if path.is_dir() {
        if has_frames(path) {
            return Ok(InferInput::Video(path.to_path_buf()));
        }
        return folder_of_videos(path);
    }
    let ext = extension(path);
    if ext == "npy" {
        return Ok(InferInput::Npy(path.to_path_buf()));
    }
    if MANIFEST_EXTENSIONS.contains(&ext.as_str()) {
        return manifest(path, classes);
    }
    Ok(InferInput::Video(path.to_path_buf()))
}

fn folder_of_videos(dir: &Path) -> Result<InferInput> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list the folder", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_video_file(p) || (p.is_dir() && has_frames(p)))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!(
            "{}: holds no frames, no video files ({}) and no frame folders",
            dir.display(),
            VIDEO_EXTENSIONS.join(", ")
        );
    }
    let entries = paths
        .into_iter()
        .enumerate()
        .map(|(i, p)| ManifestEntry {
            // Named relative to the folder, as a manifest next to it would name it.
            raw_path: p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            path: p,
            label: Label::None,
            line: i + 1,
        })
        .collect();
    Ok(InferInput::Many {
        origin: dir.to_path_buf(),
        entries,
        labelled: false,
        labels_unused: None,
    })
}

fn manifest(file: &Path, classes: Option<usize>) -> Result<InferInput> {
    let mapping = PathMapping::default();
    let with_labels =
        classes.map(|n| Manifest::read(file, LabelKind::Class { classes: Some(n) }, &mapping));
    let (manifest, labels_unused) = match with_labels {
        Some(Ok(m)) => (m, None),
        Some(Err(e)) => {
            let m = Manifest::read(file, LabelKind::None, &mapping)?;
            // Lines of bare paths have no label column to complain about.
            let unused =
                (!e.message.starts_with("expected `<path> <label>`")).then(|| e.to_string());
            (m, unused)
        }
        None => (Manifest::read(file, LabelKind::None, &mapping)?, None),
    };
    let labelled = manifest.entries.iter().all(|e| e.label != Label::None);
    Ok(InferInput::Many {
        origin: file.to_path_buf(),
        entries: manifest.entries,
        labelled,
        labels_unused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_kinds_apart() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("clip.npy"), b"x").unwrap();
        std::fs::write(d.join("a.mp4"), b"x").unwrap();
        std::fs::create_dir(d.join("frames")).unwrap();
        std::fs::write(d.join("frames/00001.jpg"), b"x").unwrap();
        std::fs::write(d.join("notes.md"), b"x").unwrap();
        std::fs::write(d.join("list.csv"), "a.mp4 3\nframes 1\n").unwrap();
        assert!(matches!(
            classify_input(&d.join("clip.npy"), None).unwrap(),
            InferInput::Npy(_)
        ));
        assert!(matches!(
            classify_input(&d.join("a.mp4"), None).unwrap(),
            InferInput::Video(_)
        ));
        assert!(matches!(
            classify_input(&d.join("frames"), None).unwrap(),
            InferInput::Video(_)
        ));
        let InferInput::Many {
            entries, labelled, ..
        } = classify_input(d, None).unwrap()
        else {
            panic!("a folder of videos");
        };
        assert!(!labelled);
        let names: Vec<_> = entries
            .iter()
            .map(|e| e.path.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, vec!["a.mp4", "frames"]);
        let InferInput::Many {
            entries, labelled, ..
        } = classify_input(&d.join("list.csv"), Some(7)).unwrap()
        else {
            panic!("a manifest");
        };
        assert!(labelled);
        assert_eq!(entries[0].label, Label::Class(3));
        // Labels out of the model's range: read as an unlabelled list, not refused.
        let InferInput::Many {
            labelled,
            labels_unused,
            ..
        } = classify_input(&d.join("list.csv"), Some(2)).unwrap()
        else {
            panic!("a manifest");
        };
        assert!(!labelled);
        let why = labels_unused.unwrap();
        assert!(
            why.contains("list.csv:1") && why.contains("out of range"),
            "{why}"
        );
        std::fs::write(d.join("bare.txt"), "a.mp4\nframes\n").unwrap();
        let InferInput::Many {
            labelled,
            labels_unused,
            ..
        } = classify_input(&d.join("bare.txt"), Some(7)).unwrap()
        else {
            panic!("a manifest");
        };
        assert!(!labelled && labels_unused.is_none());
    }

    #[test]
    fn an_empty_folder_and_a_missing_path_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = classify_input(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("holds no frames, no video files"), "{e}");
        let e = classify_input(&dir.path().join("gone.mp4"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("gone.mp4: no such file"), "{e}");
    }
}
