//! Pooled encoder features on disk: per clip and per video, as safetensors (`clip_features`
//! `[clips, D]`, `video_features` `[videos, D]`, `clip_video` `[clips]` = the video row of each
//! clip) or as two `.npy` arrays (`FILE` = per video, `FILE.clips.npy` = per clip), always
//! with an index CSV (`FILE.index.csv`) that names the video and frames of every clip row.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::report::csv_field;
use crate::session::write_atomic;

/// One clip row of the index.
#[derive(Debug, Clone)]
pub struct ClipRow {
    pub video: usize,
    /// Which clip of its video.
    pub clip: usize,
    /// Source frames the clip covers (inclusive), when known.
    pub frames: Option<(usize, usize)>,
    pub features: Vec<f32>,
}

/// One video row.
#[derive(Debug, Clone)]
pub struct VideoRow {
    pub path: String,
    /// Class index or targets as written in the manifest; empty when unlabelled.
    pub label: String,
    pub features: Vec<f32>,
}

#[derive(Debug, Clone, Default)]
pub struct FeatureSet {
    pub videos: Vec<VideoRow>,
    pub clips: Vec<ClipRow>,
    /// Recorded in the safetensors metadata (checkpoint, protocol, …).
    pub metadata: Vec<(String, String)>,
}

/// The files `write` makes for `out`.
pub fn output_files(out: &Path) -> Result<(PathBuf, Option<PathBuf>, PathBuf)> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let with = |suffix: &str| {
        let mut s = out.with_extension("").into_os_string();
        s.push(suffix);
        PathBuf::from(s)
    };
    match ext.as_str() {
        "safetensors" => Ok((out.to_path_buf(), None, with(".index.csv"))),
        "npy" => Ok((
            out.to_path_buf(),
            Some(with(".clips.npy")),
            with(".index.csv"),
        )),
        other => bail!(
            "{}: unknown extension `.{other}`; write .safetensors or .npy",
            out.display()
        ),
    }
}

fn matrix(rows: impl Iterator<Item = Vec<f32>>, dim: usize) -> Vec<f32> {
    let mut out = Vec::new();
    for r in rows {
        debug_assert_eq!(r.len(), dim);
        out.extend(r);
    }
    out
}

impl FeatureSet {
    pub fn dim(&self) -> usize {
        self.videos.first().map_or(0, |v| v.features.len())
    }

    /// Writes the features and the index next to `out`; returns the files written.
    pub fn write(&self, out: &Path) -> Result<Vec<PathBuf>> {
        let (main, clips_npy, index) = output_files(out)?;
        let d = self.dim();
        let videos = matrix(self.videos.iter().map(|v| v.features.clone()), d);
        let clips = matrix(self.clips.iter().map(|c| c.features.clone()), d);
        let mut written = vec![];
        match clips_npy {
            None => {
                let video_of: Vec<u8> = self
                    .clips
                    .iter()
                    .flat_map(|c| (c.video as i64).to_le_bytes())
                    .collect();
                let vb: Vec<u8> = videos.iter().flat_map(|v| v.to_le_bytes()).collect();
                let cb: Vec<u8> = clips.iter().flat_map(|v| v.to_le_bytes()).collect();
                use safetensors::Dtype;
                use safetensors::tensor::TensorView;
                let views = vec![
                    (
                        "video_features",
                        TensorView::new(Dtype::F32, vec![self.videos.len(), d], &vb)?,
                    ),
                    (
                        "clip_features",
                        TensorView::new(Dtype::F32, vec![self.clips.len(), d], &cb)?,
                    ),
                    (
                        "clip_video",
                        TensorView::new(Dtype::I64, vec![self.clips.len()], &video_of)?,
                    ),
                ];
                let meta: HashMap<String, String> = self.metadata.iter().cloned().collect();
                let bytes = safetensors::serialize(views, Some(meta))?;
                write_atomic(&main, &bytes)?;
            }
            Some(clips_path) => {
                crate::npy::write_f32(&main, &[self.videos.len(), d], &videos)
                    .with_context(|| main.display().to_string())?;
                crate::npy::write_f32(&clips_path, &[self.clips.len(), d], &clips)
                    .with_context(|| clips_path.display().to_string())?;
                written.push(clips_path);
            }
        }
        written.insert(0, main);
        let mut csv = String::from("clip_row,video_row,path,label,clip,first_frame,last_frame\n");
        for (i, c) in self.clips.iter().enumerate() {
            let v = &self.videos[c.video];
            let (first, last) = c.frames.map_or((String::new(), String::new()), |(a, b)| {
                (a.to_string(), b.to_string())
            });
            writeln!(
                csv,
                "{i},{},{},{},{},{first},{last}",
                c.video,
                csv_field(&v.path),
                csv_field(&v.label),
                c.clip
            )
            .ok();
        }
        write_atomic(&index, csv.as_bytes())?;
        written.push(index);
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> FeatureSet {
        FeatureSet {
            videos: vec![
                VideoRow {
                    path: "a, b.mp4".into(),
                    label: "3".into(),
                    features: vec![1.0, 2.0],
                },
                VideoRow {
                    path: "c.mp4".into(),
                    label: String::new(),
                    features: vec![3.0, 4.0],
                },
            ],
            clips: vec![
                ClipRow {
                    video: 0,
                    clip: 0,
                    frames: Some((0, 63)),
                    features: vec![1.0, 2.0],
                },
                ClipRow {
                    video: 1,
                    clip: 0,
                    frames: None,
                    features: vec![3.0, 4.0],
                },
            ],
            metadata: vec![("checkpoint".into(), "m.safetensors".into())],
        }
    }

    #[test]
    fn safetensors_hold_both_matrices_and_the_index_names_each_clip() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("f.safetensors");
        let files = set().write(&out).unwrap();
        assert_eq!(files[1], dir.path().join("f.index.csv"));
        let bytes = std::fs::read(&out).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let v = st.tensor("video_features").unwrap();
        assert_eq!(v.shape(), &[2, 2]);
        let vals: Vec<f32> = v
            .data()
            .chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(vals, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(st.tensor("clip_video").unwrap().shape(), &[2]);
        let csv = std::fs::read_to_string(&files[1]).unwrap();
        assert!(csv.contains("0,0,\"a, b.mp4\",3,0,0,63\n"), "{csv}");
        assert!(csv.contains("1,1,c.mp4,,0,,\n"), "{csv}");
    }

    #[test]
    fn npy_writes_videos_and_clips_apart_and_other_extensions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = set().write(&dir.path().join("f.npy")).unwrap();
        assert_eq!(files.len(), 3);
        let clips = crate::npy::read_f32(&dir.path().join("f.clips.npy")).unwrap();
        assert_eq!(clips.shape, vec![2, 2]);
        let e = set()
            .write(&dir.path().join("f.pt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown extension `.pt`"), "{e}");
    }
}
