//! One face through a video: detections on some frames (every k-th, say) are linked into
//! tracks by box overlap, the main track is chosen, its boxes and landmarks are smoothed
//! over time (per-frame MTCNN boxes jitter by a few pixels) and the frames in between are
//! filled by linear interpolation; frames where the face is gone are reported as missing.

use super::detect::Face;
use super::error::{FacesError, FacesResult};
use super::nms::{Overlap, overlap};

/// Which track is the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainFace {
    /// The track with the largest size × duration (sum of box sides over its detections).
    Largest,
    /// The n-th track in that same order (0 = `Largest`).
    Index(usize),
}

/// Tracking settings; frame counts are in video frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackConfig {
    /// A detection continues a track when its box overlaps the track's last box by at least
    /// this IoU.
    pub iou_threshold: f32,
    /// Longest run of frames between two detections of a track that is interpolated.
    pub max_gap: usize,
    /// Examined frames in a row where the track may be missed (a failed detection) and
    /// still be interpolated across; one more and the face counts as gone.
    pub max_missed: usize,
    /// Half-width, in frames, of the triangular window that averages the track's
    /// detections (0 = no smoothing).
    pub smooth_radius: usize,
    pub main_face: MainFace,
}

impl Default for TrackConfig {
    fn default() -> Self {
        Self {
            iou_threshold: 0.3,
            max_gap: 25,
            max_missed: 1,
            smooth_radius: 6,
            main_face: MainFace::Largest,
        }
    }
}

impl TrackConfig {
    pub fn validate(&self) -> FacesResult<()> {
        if !(self.iou_threshold > 0.0 && self.iou_threshold <= 1.0) {
            return Err(FacesError::Config {
                field: "iou_threshold",
                problem: format!("is {}, must lie in (0, 1]", self.iou_threshold),
            });
        }
        Ok(())
    }
}

/// What the tracker made of a video.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSummary {
    pub frames: usize,
    /// Frames where the main track was detected.
    pub detected: usize,
    /// Frames filled between or next to detections.
    pub interpolated: usize,
    /// Frames without the face.
    pub missing: usize,
    pub tracks: usize,
    /// Detections per track, main track first order as `MainFace::Index` counts them.
    pub track_lengths: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackResult {
    /// The main face on every frame, or None where it is missing.
    pub faces: Vec<Option<Face>>,
    pub summary: TrackSummary,
}

impl TrackResult {
    /// Runs of frames without the face, as `start..end`.
    pub fn missing_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, f) in self.faces.iter().enumerate() {
            if f.is_some() {
                continue;
            }
            match out.last_mut() {
                Some(r) if r.end == i => r.end = i + 1,
                _ => out.push(i..i + 1),
            }
        }
        out
    }
}

/// The frames examined when detecting on every `k`-th of `frames` frames (always including
/// the last, so the end of the clip is covered).
pub fn sampled_frames(frames: usize, k: usize) -> Vec<usize> {
    let k = k.max(1);
    let mut v: Vec<usize> = (0..frames).step_by(k).collect();
    if frames > 0 && v.last() != Some(&(frames - 1)) {
        v.push(frames - 1);
    }
    v
}

/// Links detections into tracks: each examined frame's faces, best score first, join the
/// live track whose last box overlaps most (IoU ≥ threshold, last seen ≤ `max_gap` frames
/// ago), else start a track. Returns per track its (frame, face) detections.
fn link(per_frame: &[Option<Vec<Face>>], cfg: &TrackConfig) -> Vec<Vec<(usize, Face)>> {
    let mut tracks: Vec<Vec<(usize, Face)>> = Vec::new();
    for (frame, faces) in per_frame.iter().enumerate() {
        let Some(faces) = faces else { continue };
        let mut order: Vec<&Face> = faces.iter().collect();
        order.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut taken = vec![false; tracks.len()];
        for face in order {
            let best = tracks
                .iter()
                .enumerate()
                .filter(|(t, tr)| !taken[*t] && frame - tr.last().unwrap().0 <= cfg.max_gap)
                .map(|(t, tr)| {
                    (
                        t,
                        overlap(&tr.last().unwrap().1.bbox, &face.bbox, Overlap::Union),
                    )
                })
                .filter(|&(_, iou)| iou >= cfg.iou_threshold)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((t, _)) => {
                    taken[t] = true;
                    tracks[t].push((frame, *face));
                }
                None => {
                    tracks.push(vec![(frame, *face)]);
                    taken.push(true);
                }
            }
        }
    }
    // Size × duration, largest first.
    let weight = |tr: &Vec<(usize, Face)>| -> f32 {
        tr.iter()
            .map(|(_, f)| (f.width() * f.height()).max(0.0).sqrt())
            .sum()
    };
    tracks.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
    tracks
}

fn lerp_face(a: &Face, b: &Face, t: f32) -> Face {
    let l = |x: f32, y: f32| x + (y - x) * t;
    Face {
        bbox: std::array::from_fn(|k| l(a.bbox[k], b.bbox[k])),
        score: l(a.score, b.score),
        landmarks: std::array::from_fn(|k| {
            [
                l(a.landmarks[k][0], b.landmarks[k][0]),
                l(a.landmarks[k][1], b.landmarks[k][1]),
            ]
        }),
    }
}

/// Splits a track into segments that may be interpolated: consecutive detections closer
/// than `max_gap` frames with at most `max_missed` examined frames between them.
fn segments(
    track: &[(usize, Face)],
    per_frame: &[Option<Vec<Face>>],
    cfg: &TrackConfig,
) -> Vec<Vec<(usize, Face)>> {
    let mut out: Vec<Vec<(usize, Face)>> = Vec::new();
    for &(frame, face) in track {
        let joins = out.last().and_then(|s| s.last()).is_some_and(|&(prev, _)| {
            let missed = per_frame[prev + 1..frame]
                .iter()
                .filter(|f| f.is_some())
                .count();
            frame - prev <= cfg.max_gap && missed <= cfg.max_missed
        });
        if joins {
            out.last_mut().unwrap().push((frame, face));
        } else {
            out.push(vec![(frame, face)]);
        }
    }
    out
}

/// Triangular-window average of each detection with its neighbours in the segment.
fn smooth(segment: &[(usize, Face)], radius: usize) -> Vec<(usize, Face)> {
    if radius == 0 {
        return segment.to_vec();
    }
    segment
        .iter()
        .map(|&(frame, face)| {
            let mut acc = Face {
                bbox: [0.0; 4],
                score: face.score,
                landmarks: [[0.0; 2]; 5],
            };
            let mut total = 0.0;
            for &(g, other) in segment {
                let d = frame.abs_diff(g);
                if d > radius {
                    continue;
                }
                let w = 1.0 - d as f32 / (radius + 1) as f32;
                total += w;
                for k in 0..4 {
                    acc.bbox[k] += w * other.bbox[k];
                }
                for k in 0..5 {
                    acc.landmarks[k][0] += w * other.landmarks[k][0];
                    acc.landmarks[k][1] += w * other.landmarks[k][1];
                }
            }
            acc.bbox.iter_mut().for_each(|v| *v /= total);
            acc.landmarks.iter_mut().flatten().for_each(|v| *v /= total);
            (frame, acc)
        })
        .collect()
}

/// Tracks the main face. `per_frame[i]` is None for a frame not examined, else the faces
/// detected on it (possibly none).
pub fn track(per_frame: &[Option<Vec<Face>>], cfg: &TrackConfig) -> FacesResult<TrackResult> {
    cfg.validate()?;
    let n = per_frame.len();
    let tracks = link(per_frame, cfg);
    let main = match cfg.main_face {
        MainFace::Largest => 0,
        MainFace::Index(i) => i,
    };
    if !tracks.is_empty() && main >= tracks.len() {
        return Err(FacesError::Config {
            field: "main_face",
            problem: format!(
                "asks for face {main}, but the video has {} face tracks",
                tracks.len()
            ),
        });
    }
    let mut faces: Vec<Option<Face>> = vec![None; n];
    let mut detected = 0;
    if let Some(track) = tracks.get(main) {
        detected = track.len();
        for seg in segments(track, per_frame, cfg) {
            let seg = smooth(&seg, cfg.smooth_radius);
            for pair in seg.windows(2) {
                let ((f0, a), (f1, b)) = (pair[0], pair[1]);
                for (i, slot) in faces.iter_mut().enumerate().take(f1).skip(f0 + 1) {
                    *slot = Some(lerp_face(&a, &b, (i - f0) as f32 / (f1 - f0) as f32));
                }
            }
            for &(f, face) in &seg {
                faces[f] = Some(face);
            }
            // Unexamined frames just outside the segment whose nearest examined frame is
            // the segment's end take that end's face.
            let (first, last) = (seg[0], *seg.last().unwrap());
            hold(&mut faces, per_frame, first.0, &first.1, false);
            hold(&mut faces, per_frame, last.0, &last.1, true);
        }
    }
    let present = faces.iter().filter(|f| f.is_some()).count();
    let summary = TrackSummary {
        frames: n,
        detected,
        interpolated: present - detected,
        missing: n - present,
        tracks: tracks.len(),
        track_lengths: tracks.iter().map(Vec::len).collect(),
    };
    Ok(TrackResult { faces, summary })
}

/// Fills unexamined frames after (`forward`) or before `at` that are nearer to `at` than to
/// any other examined frame.
fn hold(
    faces: &mut [Option<Face>],
    per_frame: &[Option<Vec<Face>>],
    at: usize,
    face: &Face,
    forward: bool,
) {
    let n = per_frame.len();
    let next_examined = if forward {
        (at + 1..n).find(|&i| per_frame[i].is_some())
    } else {
        (0..at).rev().find(|&i| per_frame[i].is_some())
    };
    let range: Vec<usize> = if forward {
        (at + 1..n).collect()
    } else {
        (0..at).rev().collect()
    };
    for i in range {
        if per_frame[i].is_some() || faces[i].is_some() {
            break;
        }
        let nearer = match next_examined {
            Some(e) => i.abs_diff(at) < i.abs_diff(e),
            None => true,
        };
        if !nearer {
            break;
        }
        faces[i] = Some(*face);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, y: f32, size: f32) -> Face {
        Face {
            bbox: [x, y, x + size, y + size],
            score: 0.99,
            landmarks: std::array::from_fn(|k| [x + size * (0.3 + 0.1 * k as f32), y + size * 0.5]),
        }
    }

    /// Every k-th of `n` frames examined, with the faces `at(frame)` returns.
    fn every(n: usize, k: usize, at: impl Fn(usize) -> Vec<Face>) -> Vec<Option<Vec<Face>>> {
        let mut v = vec![None; n];
        for i in sampled_frames(n, k) {
            v[i] = Some(at(i));
        }
        v
    }

    #[test]
    fn overlapping_detections_form_one_track_and_gaps_are_interpolated() {
        let per = every(21, 5, |i| vec![face(10.0 + i as f32, 20.0, 50.0)]);
        let cfg = TrackConfig {
            smooth_radius: 0,
            ..Default::default()
        };
        let r = track(&per, &cfg).unwrap();
        assert_eq!(r.summary.tracks, 1);
        assert_eq!(
            (
                r.summary.detected,
                r.summary.interpolated,
                r.summary.missing
            ),
            (5, 16, 0)
        );
        // Frame 7 lies 2/5 of the way from the detection at 5 (x 15) to 10 (x 20).
        assert!((r.faces[7].unwrap().bbox[0] - 17.0).abs() < 1e-4);
        assert!((r.faces[7].unwrap().landmarks[0][0] - 32.0).abs() < 1e-4);
    }

    #[test]
    fn a_face_gone_for_two_samples_is_reported_missing() {
        // Face on frames < 12 and ≥ 28; examined every 5th: misses at 15, 20, 25.
        let per = every(40, 5, |i| {
            if (12..28).contains(&i) {
                vec![]
            } else {
                vec![face(10.0, 10.0, 40.0)]
            }
        });
        let r = track(&per, &TrackConfig::default()).unwrap();
        let missing = r.missing_ranges();
        assert_eq!(missing.len(), 1);
        // Frames nearer to a detection than to a failed one keep the face.
        assert_eq!(missing[0], 13..28);
        assert_eq!(r.summary.missing, 15);
        // One missed sample alone is bridged.
        let per = every(40, 5, |i| {
            if i == 20 {
                vec![]
            } else {
                vec![face(10.0, 10.0, 40.0)]
            }
        });
        assert_eq!(
            track(&per, &TrackConfig::default())
                .unwrap()
                .summary
                .missing,
            0
        );
    }

    #[test]
    fn main_face_is_large_and_lasting_and_can_be_chosen_by_index() {
        // A big face on every sample, a small one on all, a bigger one only briefly.
        let per = every(50, 5, |i| {
            let mut v = vec![face(10.0, 10.0, 60.0), face(200.0, 10.0, 25.0)];
            if i < 10 {
                v.push(face(100.0, 100.0, 90.0));
            }
            v
        });
        let r = track(&per, &TrackConfig::default()).unwrap();
        assert_eq!(r.summary.tracks, 3);
        assert!((r.faces[33].unwrap().width() - 60.0).abs() < 1e-3);
        let cfg = TrackConfig {
            main_face: MainFace::Index(1),
            ..Default::default()
        };
        assert!((track(&per, &cfg).unwrap().faces[33].unwrap().width() - 25.0).abs() < 1e-3);
        let cfg = TrackConfig {
            main_face: MainFace::Index(7),
            ..Default::default()
        };
        assert!(
            track(&per, &cfg)
                .unwrap_err()
                .to_string()
                .contains("main_face")
        );
    }

    #[test]
    fn smoothing_reduces_jitter_of_a_still_face() {
        // ±2 px alternating jitter on a face that does not move, detected every frame.
        let jitter = |i: usize| if i.is_multiple_of(2) { 2.0 } else { -2.0 };
        let per: Vec<Option<Vec<Face>>> = (0..60)
            .map(|i| Some(vec![face(50.0 + jitter(i), 40.0 - jitter(i), 80.0)]))
            .collect();
        let rms = |cfg: &TrackConfig| {
            let r = track(&per, cfg).unwrap();
            let d: f32 = r.faces[6..54]
                .iter()
                .map(|f| (f.unwrap().bbox[0] - 50.0).powi(2))
                .sum();
            (d / 48.0).sqrt()
        };
        let raw = rms(&TrackConfig {
            smooth_radius: 0,
            ..Default::default()
        });
        let smoothed = rms(&TrackConfig::default());
        assert!((raw - 2.0).abs() < 1e-4);
        assert!(smoothed < raw / 4.0, "jitter {raw} → {smoothed}");
    }

    #[test]
    fn sampling_covers_the_last_frame() {
        assert_eq!(sampled_frames(12, 5), vec![0, 5, 10, 11]);
        assert_eq!(sampled_frames(11, 5), vec![0, 5, 10]);
        assert!(sampled_frames(0, 5).is_empty());
    }
}
