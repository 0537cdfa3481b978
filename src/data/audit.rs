//! A dataset audit before a long run: how many clips, how balanced the classes are, how long
//! the clips are against the model's window, which resolutions and frame rates occur, which
//! files cannot be read, and the middle frames of sampled clips (for a contact sheet) — so a
//! wrongly cropped or mislabelled dataset is seen before 100 epochs are spent on it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::frame::{Frame, short_side_size};
use super::manifest::{Label, ManifestEntry};
use super::source::{ClipSource, DecodeOptions};
use crate::backend::Cpu;
use crate::faces::{FaceDetector, detect_scaled};

/// What one readable clip is.
#[derive(Debug, Clone)]
pub struct ClipFacts {
    pub index: usize,
    pub frames: usize,
    pub width: usize,
    pub height: usize,
    pub fps: Option<f64>,
    /// A face was found on the middle frame (None: not looked for).
    pub face: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub clips: usize,
    pub class_counts: BTreeMap<usize, usize>,
    pub facts: Vec<ClipFacts>,
    /// Unreadable clips: manifest line, path, reason.
    pub unreadable: Vec<(usize, PathBuf, String)>,
    /// Middle frames of the sampled clips: manifest index and the frame (short side `thumb`).
    pub samples: Vec<(usize, Frame)>,
}

/// Minimum, median and maximum of a list (None when empty).
pub fn spread(mut v: Vec<usize>) -> Option<(usize, usize, usize)> {
    v.sort_unstable();
    Some((*v.first()?, v[v.len() / 2], *v.last()?))
}

impl Audit {
    /// `(width, height)` → clips.
    pub fn resolutions(&self) -> BTreeMap<(usize, usize), usize> {
        let mut m = BTreeMap::new();
        for f in &self.facts {
            *m.entry((f.width, f.height)).or_default() += 1;
        }
        m
    }

    /// Frame rate rounded to 0.01 → clips (frame folders: none).
    pub fn frame_rates(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for f in &self.facts {
            let key = f
                .fps
                .map_or("frame folder".to_string(), |r| format!("{r:.2}"));
            *m.entry(key).or_default() += 1;
        }
        m
    }

    /// `(clips whose middle frame shows a face, clips looked at)` when faces were looked for.
    pub fn with_face(&self) -> Option<(usize, usize)> {
        let looked: Vec<bool> = self.facts.iter().filter_map(|f| f.face).collect();
        (!looked.is_empty()).then(|| (looked.iter().filter(|&&b| b).count(), looked.len()))
    }

    /// Readable clips shorter than `window` frames (they repeat frames to fill a clip).
    pub fn shorter_than(&self, window: usize) -> usize {
        self.facts.iter().filter(|f| f.frames < window).count()
    }
}

/// Which clips go on the contact sheet: up to `n`, spread evenly over the classes (each class
/// gets its share, taken evenly over its clips), or over the list when unlabelled.
pub fn sample_for_sheet(entries: &[ManifestEntry], n: usize) -> Vec<usize> {
    let mut by_class: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_class.entry(e.label.class()).or_default().push(i);
    }
    let groups = by_class.len().max(1);
    let per = (n / groups).max(1);
    let mut out = vec![];
    for members in by_class.values() {
        let take = per.min(members.len());
        for k in 0..take {
            out.push(members[k * members.len() / take]);
        }
    }
    out.truncate(n);
    out
}

fn thumbnail(frame: &Frame, thumb: usize) -> Frame {
    let (w, h) = short_side_size(frame.width, frame.height, thumb);
    frame.resize(w, h)
}

/// A readable clip's facts and its kept thumbnail, or why it cannot be read.
type ClipOutcome = Result<(ClipFacts, Option<Frame>), String>;

/// Opens every clip of `entries` (on all cores), counting frames and reading the middle
/// frame (with `faces`, MTCNN looks for a face on it); `sheet` clips keep that frame as a
/// thumbnail with short side `thumb`.
pub fn audit(
    entries: &[ManifestEntry],
    sheet: &[usize],
    thumb: usize,
    faces: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Audit {
    let done = AtomicUsize::new(0);
    let total = entries.len();
    let results: Vec<(usize, ClipOutcome)> = entries
        .par_iter()
        .enumerate()
        .map_init(
            || {
                faces
                    .then(|| FaceDetector::<Cpu>::new(&Default::default()).ok())
                    .flatten()
            },
            |detector, (i, e)| {
                let r = (|| {
                    let opts = DecodeOptions::default();
                    let mut src = ClipSource::open(&e.path, &opts).map_err(|e| e.to_string())?;
                    let n = src.len();
                    if n == 0 {
                        return Err(format!("{}: no frames", e.path.display()));
                    }
                    let mid = src.read(&[n / 2], &opts).map_err(|e| e.to_string())?;
                    let frame = &mid.frames[0];
                    let facts = ClipFacts {
                        index: i,
                        frames: n,
                        width: frame.width,
                        height: frame.height,
                        fps: src.fps(),
                        face: detector.as_ref().map(|d| {
                            !detect_scaled(d, std::slice::from_ref(frame), 360)[0].is_empty()
                        }),
                    };
                    let keep = sheet.contains(&i).then(|| thumbnail(frame, thumb));
                    Ok((facts, keep))
                })();
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                (i, r)
            },
        )
        .collect();
    let mut audit = Audit {
        clips: entries.len(),
        ..Audit::default()
    };
    for e in entries {
        if let Label::Class(c) = e.label {
            *audit.class_counts.entry(c).or_default() += 1;
        }
    }
    for (i, r) in results {
        match r {
            Ok((facts, keep)) => {
                audit.facts.push(facts);
                if let Some(f) = keep {
                    audit.samples.push((i, f));
                }
            }
            Err(reason) => {
                audit
                    .unreadable
                    .push((entries[i].line, entries[i].path.clone(), reason))
            }
        }
    }
    audit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, c: Option<usize>) -> ManifestEntry {
        ManifestEntry {
            raw_path: format!("{i}"),
            path: PathBuf::from(format!("/nowhere/{i}")),
            label: c.map_or(Label::None, Label::Class),
            line: i + 1,
        }
    }

    #[test]
    fn the_sheet_samples_every_class_evenly() {
        let entries: Vec<_> = (0..30)
            .map(|i| entry(i, Some(if i < 20 { 0 } else { 1 })))
            .collect();
        let picked = sample_for_sheet(&entries, 6);
        assert_eq!(picked.len(), 6);
        assert_eq!(picked.iter().filter(|&&i| i < 20).count(), 3);
        assert_eq!(&picked[..3], &[0, 6, 13]);
        let unlabelled: Vec<_> = (0..4).map(|i| entry(i, None)).collect();
        assert_eq!(sample_for_sheet(&unlabelled, 10), vec![0, 1, 2, 3]);
    }

    #[test]
    fn unreadable_files_are_listed_with_their_line_and_the_rest_counted() {
        let entries = vec![entry(0, Some(2)), entry(1, Some(2))];
        let a = audit(&entries, &[0], 32, false, &|_, _| {});
        assert_eq!(a.clips, 2);
        assert_eq!(a.class_counts[&2], 2);
        assert_eq!(a.unreadable.len(), 2);
        assert_eq!(a.unreadable[1].0, 2);
        assert!(
            a.unreadable[0].2.contains("/nowhere/0"),
            "{:?}",
            a.unreadable
        );
        assert!(a.samples.is_empty());
        assert_eq!(spread(vec![5, 1, 9]), Some((1, 5, 9)));
        assert_eq!(spread(vec![]), None);
    }
}
