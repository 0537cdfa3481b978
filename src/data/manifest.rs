//! Split files in the released format (DESIGN §7): one clip per line, `<path> <label>`,
//! space separated, labels 0-based; pre-training manifests use label 0. A path is a video
//! file or a folder of frames. The authors' absolute prefix (e.g. `/data/ycs/AC/Dataset`)
//! can be mapped to a local root; relative paths resolve against the data root (default:
//! the manifest's folder). Regression manifests carry several numbers after the path.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with one line (or the whole file) of a manifest.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ManifestError {
    pub file: PathBuf,
    /// 1-based line number (0 = the file as a whole).
    pub line: usize,
    pub message: String,
}

/// What follows the path on each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// One class index, `< classes` when given.
    Class { classes: Option<usize> },
    /// `n` real numbers (regression targets).
    Values(usize),
    /// Unlabeled (pre-training): whatever follows the path is ignored.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    Class(usize),
    Values(Vec<f32>),
    None,
}

impl Label {
    pub fn class(&self) -> Option<usize> {
        match self {
            Label::Class(c) => Some(*c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    /// The path as written in the file.
    pub raw_path: String,
    /// Where it is on this machine.
    pub path: PathBuf,
    pub label: Label,
    /// 1-based line number in the manifest.
    pub line: usize,
}

/// How paths in a manifest are mapped to this machine.
#[derive(Debug, Clone, Default)]
pub struct PathMapping {
    /// Relative paths are joined to this (default: the manifest's folder).
    pub data_root: Option<PathBuf>,
    /// `(from, to)`: a path starting with `from` has it replaced by `to`.
    pub prefix: Option<(String, PathBuf)>,
}

impl PathMapping {
    pub fn resolve(&self, raw: &str, manifest_dir: &Path) -> PathBuf {
        if let Some((from, to)) = &self.prefix
            && let Some(rest) = raw.strip_prefix(from.as_str())
        {
            return to.join(rest.trim_start_matches('/'));
        }
        let p = Path::new(raw);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.data_root.as_deref().unwrap_or(manifest_dir).join(p)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub file: PathBuf,
    pub kind: LabelKind,
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// Reads a manifest; the first malformed line or bad label is an error naming file:line.
    pub fn read(
        file: &Path,
        kind: LabelKind,
        mapping: &PathMapping,
    ) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(file).map_err(|e| ManifestError {
            file: file.to_path_buf(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, file, kind, mapping)
    }

    pub fn parse(
        text: &str,
        file: &Path,
        kind: LabelKind,
        mapping: &PathMapping,
    ) -> Result<Self, ManifestError> {
        let dir = file.parent().unwrap_or(Path::new("."));
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let lineno = i + 1;
            let err = |message: String| ManifestError {
                file: file.to_path_buf(),
                line: lineno,
                message,
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let (raw_path, label) = match kind {
                LabelKind::None => (tokens[0].to_string(), Label::None),
                LabelKind::Class { classes } => {
                    if tokens.len() < 2 {
                        return Err(err(format!("expected `<path> <label>`, found `{line}`")));
                    }
                    let tok = tokens[tokens.len() - 1];
                    let c: usize = tok.parse().map_err(|_| {
                        err(format!(
                            "label `{tok}` is not a class index (0-based integer)"
                        ))
                    })?;
                    if let Some(n) = classes
                        && c >= n
                    {
                        return Err(err(format!(
                            "label {c} is out of range: this dataset has {n} classes (0..{})",
                            n - 1
                        )));
                    }
                    (tokens[..tokens.len() - 1].join(" "), Label::Class(c))
                }
                LabelKind::Values(n) => {
                    if tokens.len() < n + 1 {
                        return Err(err(format!(
                            "expected `<path>` and {n} numbers, found `{line}`"
                        )));
                    }
                    let vals = tokens[tokens.len() - n..]
                        .iter()
                        .map(|t| {
                            t.parse::<f32>()
                                .map_err(|_| err(format!("target `{t}` is not a number")))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    (tokens[..tokens.len() - n].join(" "), Label::Values(vals))
                }
            };
            let path = mapping.resolve(&raw_path, dir);
            entries.push(ManifestEntry {
                raw_path,
                path,
                label,
                line: lineno,
            });
        }
        if entries.is_empty() {
            return Err(ManifestError {
                file: file.to_path_buf(),
                line: 0,
                message: "no entries".into(),
            });
        }
        Ok(Self {
            file: file.to_path_buf(),
            kind,
            entries,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries whose file or folder does not exist, as `file:line: path` errors.
    pub fn missing(&self) -> Vec<ManifestError> {
        self.entries
            .iter()
            .filter(|e| !e.path.exists())
            .map(|e| ManifestError {
                file: self.file.clone(),
                line: e.line,
                message: format!(
                    "{} does not exist (written as {})",
                    e.path.display(),
                    e.raw_path
                ),
            })
            .collect()
    }

    /// The longest common folder prefix of the paths as written (what a user maps to a
    /// local root), if any.
    pub fn common_prefix(&self) -> Option<String> {
        let first = self.entries.first()?.raw_path.as_str();
        let mut prefix = first
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        for e in &self.entries {
            let under =
                |p: &str| e.raw_path.starts_with(p) && e.raw_path[p.len()..].starts_with('/');
            while !prefix.is_empty() && !under(&prefix) {
                prefix = prefix
                    .rsplit_once('/')
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default();
            }
        }
        (!prefix.is_empty()).then_some(prefix)
    }

    pub fn summary(&self) -> ManifestSummary {
        let mut class_counts = BTreeMap::new();
        for e in &self.entries {
            if let Label::Class(c) = e.label {
                *class_counts.entry(c).or_insert(0usize) += 1;
            }
        }
        ManifestSummary {
            file: self.file.clone(),
            clips: self.entries.len(),
            class_counts,
            common_prefix: self.common_prefix(),
        }
    }
}

/// Counts and class balance of a manifest.
#[derive(Debug, Clone)]
pub struct ManifestSummary {
    pub file: PathBuf,
    pub clips: usize,
    pub class_counts: BTreeMap<usize, usize>,
    pub common_prefix: Option<String>,
}

impl ManifestSummary {
    /// Prints with class names when known.
    pub fn describe(&self, names: Option<&[&str]>) -> String {
        let mut s = format!("{}: {} clips", self.file.display(), self.clips);
        if let Some(p) = &self.common_prefix {
            s += &format!(" under {p}");
        }
        for (c, n) in &self.class_counts {
            let name = names.and_then(|v| v.get(*c)).copied().unwrap_or("?");
            s += &format!(
                "\n  {c:>2} {name:<15} {n:>6}  {:5.1}%",
                100.0 * *n as f64 / self.clips as f64
            );
        }
        s
    }
}

impl fmt::Display for ManifestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(None))
    }
}

/// Writes a manifest in the released format.
pub fn write_manifest(file: &Path, rows: &[(String, usize)]) -> std::io::Result<()> {
    let text: String = rows.iter().map(|(p, l)| format!("{p} {l}\n")).collect();
    std::fs::write(file, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, kind: LabelKind) -> Result<Manifest, ManifestError> {
        Manifest::parse(
            text,
            Path::new("/m/train.csv"),
            kind,
            &PathMapping::default(),
        )
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let k = LabelKind::Class { classes: Some(7) };
        let e = parse("a 1\nb\n", k).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/m/train.csv:2: expected `<path> <label>`, found `b`"
        );
        let e = parse("a 1\n\nb x\n", k).unwrap_err();
        assert!(
            e.to_string().starts_with("/m/train.csv:3: label `x`"),
            "{e}"
        );
        let e = parse("a 7\n", k).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }

    #[test]
    fn prefix_mapping_and_relative_paths() {
        let map = PathMapping {
            data_root: Some("/local".into()),
            prefix: Some(("/data/ycs/AC/Dataset".into(), "/mnt/ds".into())),
        };
        let m = Manifest::parse(
            "/data/ycs/AC/Dataset/DFEW/01 3\nclips/x.mp4 0\r\n",
            Path::new("/m/t.csv"),
            LabelKind::Class { classes: None },
            &map,
        )
        .unwrap();
        assert_eq!(m.entries[0].path, PathBuf::from("/mnt/ds/DFEW/01"));
        assert_eq!(m.entries[1].path, PathBuf::from("/local/clips/x.mp4"));
        assert_eq!(m.entries[1].label, Label::Class(0));
    }

    #[test]
    fn regression_and_unlabeled() {
        let m = parse("v.mp4 0.5 -0.25 1\n", LabelKind::Values(3)).unwrap();
        assert_eq!(m.entries[0].label, Label::Values(vec![0.5, -0.25, 1.0]));
        let m = parse("v.mp4 0\nw.mp4\n", LabelKind::None).unwrap();
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn common_prefix_is_a_folder() {
        let m = parse(
            "/a/b/c1 0\n/a/b/c2 1\n/a/bx/c 1\n",
            LabelKind::Class { classes: None },
        )
        .unwrap();
        assert_eq!(m.common_prefix().as_deref(), Some("/a"));
    }
}
