//! Split files in the released format (DESIGN §7): one clip per line, `<path> <label>`,
//! labels 0-based; pre-training manifests use label 0 or no label. A path is a video
//! file or a folder of frames.
//!
//! One grammar for every task (README, "Manifests"): a line is a path followed by the task's
//! fields (one class index, N regression targets, or for pre-training an optional number),
//! separated by spaces or tabs. The fields are taken from the end of the line, so a path
//! keeps its spaces, tabs and double spaces as written; a path in double quotes is taken
//! verbatim (needed only for a pre-training path that itself ends in ` <number>`). Blank
//! lines and lines starting with `#` are skipped; a UTF-8 byte-order mark and CRLF line ends
//! are accepted. The authors' absolute prefix (e.g. `/data/ycs/AC/Dataset`)
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
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
            let (raw_path, label) = match kind {
                LabelKind::None => {
                    // An optional label column: a trailing number after the path.
                    let path = match split_fields(line, 1) {
                        Some((path, fields)) if fields[0].parse::<f64>().is_ok() => path,
                        _ => unquote(line),
                    };
                    (path.to_string(), Label::None)
                }
                LabelKind::Class { classes } => {
                    let Some((path, fields)) = split_fields(line, 1) else {
                        return Err(err(format!("expected `<path> <label>`, found `{line}`")));
                    };
                    let tok = fields[0];
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
                    (path.to_string(), Label::Class(c))
                }
                LabelKind::Values(n) => {
                    let Some((path, fields)) = split_fields(line, n) else {
                        return Err(err(format!(
                            "expected `<path>` and {n} numbers, found `{line}`"
                        )));
                    };
                    let vals = fields
                        .iter()
                        .map(|t| {
                            t.parse::<f32>()
                                .ok()
                                .filter(|v| v.is_finite())
                                .ok_or_else(|| err(format!("target `{t}` is not a finite number")))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    (path.to_string(), Label::Values(vals))
                }
            };
            if raw_path.is_empty() {
                return Err(err(format!("no path before the fields in `{line}`")));
            }
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

/// Splits a trimmed line into its path and its last `n` fields (spaces or tabs between
/// them); the path keeps its inner whitespace, or is taken verbatim from double quotes.
/// `None` when the line has fewer than `n` fields after a non-empty path.
fn split_fields(line: &str, n: usize) -> Option<(&str, Vec<&str>)> {
    if let Some(rest) = line.strip_prefix('"') {
        let (path, after) = rest.split_once('"')?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        return (fields.len() == n).then_some((path, fields));
    }
    let mut rest = line;
    let mut fields = Vec::with_capacity(n);
    for _ in 0..n {
        let cut = rest.rfind(char::is_whitespace)?;
        fields.push(rest[cut..].trim_start());
        rest = rest[..cut].trim_end();
    }
    fields.reverse();
    (!rest.is_empty()).then_some((rest, fields))
}

/// A path written in double quotes, without them.
fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s)
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
    fn paths_keep_spaces_tabs_and_quotes_in_every_task_and_a_bom_is_dropped() {
        let raw = |text: &str, kind| -> Vec<String> {
            parse(text, kind)
                .unwrap()
                .entries
                .into_iter()
                .map(|e| e.raw_path)
                .collect()
        };
        let unlabeled =
            "\u{feff}clip one.mp4\nclip\ttwo.mp4\r\nclip  three.mp4 0\n\"clip 4\"\nfive.mp4\n";
        assert_eq!(
            raw(unlabeled, LabelKind::None),
            [
                "clip one.mp4",
                "clip\ttwo.mp4",
                "clip  three.mp4",
                "clip 4",
                "five.mp4"
            ]
        );
        let classes = "\u{feff}my clip.mp4 3\nclip\t7.mp4\t2\n\"quoted 9\" 1\n";
        assert_eq!(
            raw(classes, LabelKind::Class { classes: None }),
            ["my clip.mp4", "clip\t7.mp4", "quoted 9"]
        );
        let m = parse("a b.mp4 0.5 -1 2\n", LabelKind::Values(3)).unwrap();
        assert_eq!(m.entries[0].raw_path, "a b.mp4");
        assert_eq!(m.entries[0].label, Label::Values(vec![0.5, -1.0, 2.0]));
        let e = parse("a.mp4 nan 1 2\n", LabelKind::Values(3)).unwrap_err();
        assert!(e.to_string().contains("not a finite number"), "{e}");
        let e = parse("\"a.mp4\"\n", LabelKind::Class { classes: None }).unwrap_err();
        assert!(
            e.to_string().contains(":1: expected `<path> <label>`"),
            "{e}"
        );
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
