//! One video looked at closely (`svfap-tui infer --inspect DIR`, the workbench's Inspect
//! view): `<session>/inspect/<name>/` holds
//! - `faces.json`: the main face on every frame (box and landmarks, or null);
//! - `frames/window-NNNN.jpg`: the middle frame of each window, whole (long side ≤ 480 px);
//! - `attn/window-NNNN/`: the attention maps of a window's face clip, in the layout of a
//!   run's `attn/step-N/` (written on demand: `--attention-window N`);
//! - `inspection.json` ([`Inspection`]): the timeline, written after the frames, so a reader
//!   that finds it finds the frames too.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::artifacts::{AttnMeta, read_json, write_json};
use super::error::SessionError;
use super::error::check_format;

/// `<session>/inspect/<name>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionDir {
    pub root: PathBuf,
}

impl InspectionDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
    pub fn record(&self) -> PathBuf {
        self.root.join("inspection.json")
    }
    pub fn faces(&self) -> PathBuf {
        self.root.join("faces.json")
    }
    pub fn frame(&self, window: usize) -> PathBuf {
        self.root
            .join("frames")
            .join(format!("window-{window:04}.jpg"))
    }
    pub fn attn(&self, window: usize) -> PathBuf {
        self.root.join("attn").join(format!("window-{window:04}"))
    }
    /// Windows whose attention maps are complete (their `meta.json` is written last).
    pub fn attention_windows(&self) -> Vec<usize> {
        let mut out: Vec<usize> = std::fs::read_dir(self.root.join("attn"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name.strip_prefix("window-")?.parse().ok()?;
                e.path().join(AttnMeta::FILE).is_file().then_some(n)
            })
            .collect();
        out.sort_unstable();
        out
    }
    pub fn read(&self) -> Result<Inspection, SessionError> {
        let insp: Inspection = read_json(&self.record())?;
        check_format(&self.record(), insp.format)?;
        Ok(insp)
    }
    pub fn read_faces(&self) -> Result<Vec<Option<FaceMark>>, SessionError> {
        read_json(&self.faces())
    }
}

/// The face on one frame, in the frame's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceMark {
    /// x0, y0, x1, y1.
    pub bbox: [f32; 4],
    /// Left eye, right eye, nose, mouth left, mouth right.
    pub landmarks: [[f32; 2]; 5],
}

/// One scored window of the video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectedWindow {
    /// First and last frame (0-based, in the file).
    pub first: usize,
    pub last: usize,
    /// The frames the clip was made of.
    pub frames: Vec<usize>,
    pub start_s: f64,
    pub end_s: f64,
    /// Class probabilities (regression: the outputs).
    pub probs: Vec<f32>,
    /// The frame shown for the window (`frames/window-NNNN.jpg`) and the face on it.
    pub shown_frame: usize,
    pub face: Option<FaceMark>,
}

/// How many frames had the face.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FaceCounts {
    pub detected: usize,
    pub interpolated: usize,
    pub missing: usize,
}

/// `inspection.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub format: u32,
    pub video: PathBuf,
    pub checkpoint: PathBuf,
    /// The run the checkpoint belongs to, when it is one of the session's.
    #[serde(default)]
    pub run: Option<String>,
    /// Class names in output order (or output names of a regression head).
    pub labels: Vec<String>,
    #[serde(default)]
    pub regression: bool,
    pub fps: f64,
    pub frames: usize,
    /// Width and height of the file's frames.
    pub frame_size: [usize; 2],
    /// Frames per window and the stride between them.
    pub clip_frames: usize,
    pub clip_stride: usize,
    /// How the face was cropped: `landmarks`, `box`, or empty (the frames as they are).
    #[serde(default)]
    pub align: String,
    pub windows: Vec<InspectedWindow>,
    /// The video's prediction: the mean of the windows'.
    pub probs: Vec<f32>,
    /// Without the face step (`--no-faces`): none.
    #[serde(default)]
    pub faces: Option<FaceCounts>,
    #[serde(default)]
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// Unix seconds when written.
    pub written: f64,
}

impl Inspection {
    pub fn write(&self, dir: &InspectionDir) -> Result<(), SessionError> {
        write_json(&dir.record(), self)
    }

    /// Index of the largest of `probs` (the predicted class), none when empty.
    pub fn top(probs: &[f32]) -> Option<usize> {
        probs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
    }

    /// The window where the video's predicted class is most probable (the one to look at
    /// first).
    pub fn peak_window(&self) -> Option<usize> {
        let class = Self::top(&self.probs)?;
        self.windows
            .iter()
            .enumerate()
            .max_by(|a, b| {
                let p = |w: &InspectedWindow| w.probs.get(class).copied().unwrap_or(f32::MIN);
                p(a.1).total_cmp(&p(b.1))
            })
            .map(|(i, _)| i)
    }

    /// The name of output `i`.
    pub fn label(&self, i: usize) -> String {
        self.labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("class {}", i + 1))
    }
}

/// The faces of every frame, written before `inspection.json`.
pub fn write_faces(dir: &InspectionDir, faces: &[Option<FaceMark>]) -> Result<(), SessionError> {
    write_json(&dir.faces(), &faces)
}

/// A folder name for inspecting `video` with `run`'s model: `<video stem>--<run id>`, made
/// of characters safe in a path.
pub fn inspection_name(video: &Path, run: &str) -> String {
    let stem = video
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video".into());
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}--{}", safe(&stem), safe(run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(probs: Vec<f32>) -> InspectedWindow {
        InspectedWindow {
            first: 0,
            last: 15,
            frames: (0..16).collect(),
            start_s: 0.0,
            end_s: 0.64,
            probs,
            shown_frame: 8,
            face: None,
        }
    }

    #[test]
    fn an_inspection_round_trips_and_finds_its_peak_window() {
        let dir = tempfile::tempdir().unwrap();
        let d = InspectionDir::new(dir.path().join("clip--finetune-x"));
        std::fs::create_dir_all(&d.root).unwrap();
        let insp = Inspection {
            format: 1,
            video: "clip.mp4".into(),
            checkpoint: "ckpt.mpk".into(),
            run: Some("finetune-x".into()),
            labels: vec!["happy".into(), "sad".into()],
            regression: false,
            fps: 25.0,
            frames: 40,
            frame_size: [640, 360],
            clip_frames: 16,
            clip_stride: 1,
            align: "landmarks".into(),
            windows: vec![
                window(vec![0.7, 0.3]),
                window(vec![0.9, 0.1]),
                window(vec![0.2, 0.8]),
            ],
            probs: vec![0.6, 0.4],
            faces: Some(FaceCounts {
                detected: 30,
                interpolated: 8,
                missing: 2,
            }),
            warnings: vec![],
            seconds: 1.5,
            written: 0.0,
        };
        insp.write(&d).unwrap();
        assert_eq!(d.read().unwrap(), insp);
        assert_eq!(
            insp.peak_window(),
            Some(1),
            "class 0 is most probable there"
        );
        assert_eq!(insp.label(1), "sad");
        assert_eq!(insp.label(5), "class 6");
        let marks = vec![
            None,
            Some(FaceMark {
                bbox: [1.0, 2.0, 3.0, 4.0],
                landmarks: [[0.0; 2]; 5],
            }),
        ];
        write_faces(&d, &marks).unwrap();
        assert_eq!(d.read_faces().unwrap(), marks);
        // Attention counts only once its meta.json is there.
        std::fs::create_dir_all(d.attn(2)).unwrap();
        assert!(d.attention_windows().is_empty());
        std::fs::write(d.attn(2).join(AttnMeta::FILE), "{}").unwrap();
        assert_eq!(d.attention_windows(), vec![2]);
    }

    #[test]
    fn names_are_safe_in_a_path() {
        assert_eq!(
            inspection_name(Path::new("/a/my clip (1).mp4"), "finetune-2026/x"),
            "my_clip__1_--finetune-2026_x"
        );
    }
}
