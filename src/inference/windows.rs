//! Sliding windows over a long video: which frames each scored clip is made of. A window
//! spans `frames × stride` source frames (the clip the model was trained on) and takes every
//! `stride`-th frame of it, as the test view does; windows start every `step` frames, and a
//! last window is aligned to the end so the tail of the video is always scored. A video
//! shorter than one window is one clip padded by repeating its last frame, exactly as the
//! test view pads it.

use crate::data::sampling::ClipSpec;

/// One scored window: its frames and the span of the video it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Display indices of the clip's frames (`frames` of them).
    pub frames: Vec<usize>,
    /// First and last source frame the window covers (inclusive).
    pub first: usize,
    pub last: usize,
}

/// Windows of `clip` over a video of `len` frames, starting every `step` frames (≥ 1).
pub fn sliding_windows(len: usize, clip: ClipSpec, step: usize) -> Vec<Window> {
    let len = len.max(1);
    let span = clip.window();
    if len <= span {
        let frames = clip.test_indices(len, 1).remove(0);
        return vec![Window {
            frames,
            first: 0,
            last: len - 1,
        }];
    }
    let step = step.max(1);
    let mut starts: Vec<usize> = (0..=len - span).step_by(step).collect();
    if starts.last() != Some(&(len - span)) {
        starts.push(len - span);
    }
    starts
        .into_iter()
        .map(|s| Window {
            frames: (0..clip.frames).map(|k| s + k * clip.stride).collect(),
            first: s,
            last: s + span - 1,
        })
        .collect()
}

/// The window step in frames for a step of `seconds` at `fps`; default (None): half a window.
pub fn step_frames(seconds: Option<f64>, fps: f64, clip: ClipSpec) -> usize {
    match seconds {
        Some(s) => ((s * fps).round() as usize).max(1),
        None => (clip.window() / 2).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIP: ClipSpec = ClipSpec {
        frames: 4,
        stride: 2,
    };

    #[test]
    fn windows_cover_the_video_to_its_last_frame() {
        // span 8: starts 0, 4, 8, then 12 = len - span for the tail.
        let w = sliding_windows(20, CLIP, 4);
        let starts: Vec<usize> = w.iter().map(|w| w.first).collect();
        assert_eq!(starts, vec![0, 4, 8, 12]);
        assert_eq!(w[1].frames, vec![4, 6, 8, 10]);
        assert_eq!(w.last().unwrap().last, 19);
        assert!(w.iter().all(|w| w.frames.iter().all(|&f| f < 20)));
    }

    #[test]
    fn an_exact_fit_adds_no_duplicate_tail() {
        let w = sliding_windows(16, CLIP, 4);
        let starts: Vec<usize> = w.iter().map(|w| w.first).collect();
        assert_eq!(starts, vec![0, 4, 8]);
    }

    #[test]
    fn a_short_video_is_one_padded_window_like_the_test_view() {
        let w = sliding_windows(5, CLIP, 4);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].frames, CLIP.test_indices(5, 1)[0]);
        assert_eq!((w[0].first, w[0].last), (0, 4));
        assert_eq!(sliding_windows(1, CLIP, 4)[0].frames, vec![0; 4]);
    }

    #[test]
    fn step_from_seconds_or_half_a_window() {
        assert_eq!(step_frames(Some(1.0), 25.0, CLIP), 25);
        assert_eq!(step_frames(Some(0.001), 25.0, CLIP), 1);
        assert_eq!(step_frames(None, 25.0, CLIP), 4);
    }
}
