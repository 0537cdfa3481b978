//! Completing a typed path the way a shell does: the entries of the typed folder whose names
//! start with the typed last part (hidden ones only when that part starts with a dot), and
//! Tab extending the text by the candidates' common prefix. Folders end with `/`; files are
//! offered when they look like something `infer` reads (a video, or a folder of frames).

use std::path::{Path, PathBuf};

/// Extensions of the video files offered (what FFmpeg commonly decodes).
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "avi", "mkv", "mov", "webm", "m4v", "mpg", "mpeg", "flv", "wmv",
];

/// At most this many candidates are listed.
pub const MAX_CANDIDATES: usize = 200;

/// Where `text` points: the folder to list and the part of a name typed so far. `~/` is the
/// home folder; a relative text is relative to `cwd`.
fn split_typed(text: &str, cwd: &Path) -> (PathBuf, String, String) {
    let expanded = match text.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(rest).to_string_lossy().into_owned())
            .unwrap_or_else(|| text.to_string()),
        None => text.to_string(),
    };
    let (dir_text, part) = match expanded.rfind('/') {
        Some(i) => (&expanded[..=i], &expanded[i + 1..]),
        None => ("", expanded.as_str()),
    };
    let dir = if dir_text.is_empty() {
        cwd.to_path_buf()
    } else if Path::new(dir_text).is_absolute() {
        PathBuf::from(dir_text)
    } else {
        cwd.join(dir_text)
    };
    // The text typed before the last part, kept as the user wrote it (`~/` included).
    let typed_dir = &text[..text.len() - part.len().min(text.len())];
    (dir, part.to_string(), typed_dir.to_string())
}

fn offered(path: &Path, is_dir: bool) -> bool {
    is_dir
        || path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.as_str()))
}

/// The completions of `text`: full texts (the typed folder part plus each matching name;
/// folders end with `/`), folders first, then by name.
pub fn candidates(text: &str, cwd: &Path) -> Vec<String> {
    let (dir, part, typed_dir) = split_typed(text, cwd);
    let mut found: Vec<(bool, String)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(&part) || (name.starts_with('.') && !part.starts_with('.')) {
                return None;
            }
            // Follows links, as a shell does.
            let is_dir = e.path().is_dir();
            offered(&e.path(), is_dir).then_some((!is_dir, name))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(is_file, name)| {
            let slash = if is_file { "" } else { "/" };
            format!("{typed_dir}{name}{slash}")
        })
        .collect()
}

/// What Tab makes of `text`: the longest common prefix of its candidates (the text itself
/// when none extends it).
pub fn complete(text: &str, cwd: &Path) -> String {
    let all = candidates(text, cwd);
    let Some(first) = all.first() else {
        return text.to_string();
    };
    let mut prefix = first.clone();
    for c in &all[1..] {
        let common = prefix
            .char_indices()
            .zip(c.chars())
            .find(|((_, a), b)| a != b)
            .map_or(prefix.len().min(c.len()), |((i, _), _)| i);
        prefix.truncate(common);
    }
    if prefix.len() > text.len() {
        prefix
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("clips/frames-a")).unwrap();
        std::fs::create_dir_all(p.join(".hidden")).unwrap();
        for f in [
            "clips/talk.mp4",
            "clips/talk2.MOV",
            "clips/notes.txt",
            "top.mkv",
        ] {
            std::fs::write(p.join(f), "").unwrap();
        }
        dir
    }

    #[test]
    fn folders_and_videos_are_offered_with_what_was_typed_in_front() {
        let dir = tree();
        let cwd = dir.path();
        assert_eq!(candidates("", cwd), ["clips/", "top.mkv"]);
        assert_eq!(
            candidates("clips/", cwd),
            ["clips/frames-a/", "clips/talk.mp4", "clips/talk2.MOV"],
            "folders first; text files are not offered"
        );
        assert_eq!(
            candidates("clips/t", cwd),
            ["clips/talk.mp4", "clips/talk2.MOV"]
        );
        assert_eq!(candidates(".h", cwd), [".hidden/"]);
        let abs = format!("{}/cl", cwd.display());
        assert_eq!(candidates(&abs, Path::new("/")), [format!("{abs}ips/")]);
        assert!(candidates("missing/x", cwd).is_empty());
    }

    #[test]
    fn tab_extends_to_the_common_prefix() {
        let dir = tree();
        let cwd = dir.path();
        assert_eq!(complete("cl", cwd), "clips/");
        assert_eq!(complete("clips/ta", cwd), "clips/talk");
        assert_eq!(
            complete("clips/talk", cwd),
            "clips/talk",
            "two ways on: stays"
        );
        assert_eq!(
            complete("clips/x", cwd),
            "clips/x",
            "nothing matches: unchanged"
        );
    }
}
