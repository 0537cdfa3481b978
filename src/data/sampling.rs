//! Which frames of a video form a clip, as the released code (VideoMAE / MAE-DFER data
//! loaders) picks them. Frames are display indices `0..len`.
//!
//! Padding policy (all three modes): a video shorter than the clip window repeats its last
//! frame; a video with a single frame repeats that frame. No clip ever reads past the end.

use rand::Rng;

/// Clip length and frame stride (paper: 16 frames, stride 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClipSpec {
    pub frames: usize,
    pub stride: usize,
}

impl Default for ClipSpec {
    fn default() -> Self {
        Self {
            frames: 16,
            stride: 4,
        }
    }
}

impl ClipSpec {
    /// Frames covered by one clip window (`frames × stride`).
    pub fn window(&self) -> usize {
        self.frames * self.stride
    }

    /// Fine-tuning (VideoMAE `loadvideo_decord`, train mode, one segment): a random window of
    /// `frames × stride` frames, `frames` points evenly spread over it; a video no longer than
    /// the window takes `len / stride` evenly spread frames and repeats the last one.
    pub fn train_indices(&self, len: usize, rng: &mut impl Rng) -> Vec<usize> {
        let len = len.max(1);
        let window = self.window();
        if len <= window {
            let n = len / self.stride;
            let mut idx: Vec<usize> = linspace(0.0, len as f64, n)
                .map(|v| (v as usize).min(len - 1))
                .collect();
            idx.resize(self.frames, len - 1);
            idx.truncate(self.frames);
            idx
        } else {
            let end = rng.random_range(window..len);
            let start = end - window;
            linspace(start as f64, end as f64, self.frames)
                .map(|v| (v as usize).clamp(start, end - 1))
                .collect()
        }
    }

    /// Pre-training (VideoMAE `_sample_train_indices` + `_video_TSN_decord_batch_loader`):
    /// a random start, then every `stride`-th frame; past the end the last reachable frame
    /// repeats.
    pub fn pretrain_indices(&self, len: usize, rng: &mut impl Rng) -> Vec<usize> {
        let len = len.max(1);
        let window = self.window();
        let start = if len + 1 > window {
            rng.random_range(0..len + 1 - window)
        } else {
            0
        };
        let mut idx = Vec::with_capacity(self.frames);
        let mut offset = start;
        for _ in 0..self.frames {
            idx.push(offset.min(len - 1));
            if offset + self.stride < len {
                offset += self.stride;
            }
        }
        idx
    }

    /// Test view (VideoMAE test mode): every `stride`-th frame from the start (the last one
    /// repeated up to `frames` if too few), then `clips` windows of `frames` consecutive
    /// entries starting at `int(i · (n − frames) / (clips − 1))`: the first clip starts at
    /// the beginning, the last ends at the end, the others are evenly spaced between.
    pub fn test_indices(&self, len: usize, clips: usize) -> Vec<Vec<usize>> {
        let len = len.max(1);
        let mut all: Vec<usize> = (0..len).step_by(self.stride.max(1)).collect();
        while all.len() < self.frames {
            all.push(*all.last().unwrap());
        }
        let clips = clips.max(1);
        let step = if clips > 1 {
            (all.len() - self.frames) as f64 / (clips - 1) as f64
        } else {
            0.0
        };
        (0..clips)
            .map(|i| {
                let start = (i as f64 * step) as usize;
                all[start..start + self.frames].to_vec()
            })
            .collect()
    }
}

/// numpy.linspace(start, end, n) (endpoint included).
fn linspace(start: f64, end: f64, n: usize) -> impl Iterator<Item = f64> {
    let step = if n > 1 {
        (end - start) / (n - 1) as f64
    } else {
        0.0
    };
    (0..n).map(move |i| start + step * i as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn test_view_of_a_long_video_spans_it_evenly() {
        let spec = ClipSpec::default();
        let clips = spec.test_indices(200, 2);
        assert_eq!(clips[0], (0..16).map(|i| i * 4).collect::<Vec<_>>());
        // 50 strided frames: the second clip is entries 34..50 = frames 136..196.
        assert_eq!(clips[1][0], 136);
        assert_eq!(*clips[1].last().unwrap(), 196);
    }

    #[test]
    fn short_video_repeats_its_last_frame() {
        let spec = ClipSpec::default();
        let clips = spec.test_indices(10, 2);
        assert_eq!(
            clips[0],
            vec![0, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]
        );
        assert_eq!(clips[0], clips[1]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let t = spec.train_indices(10, &mut rng);
        assert_eq!(t.len(), 16);
        assert!(t.iter().all(|&i| i < 10));
        assert_eq!(*t.last().unwrap(), 9);
        let p = spec.pretrain_indices(10, &mut rng);
        assert_eq!(p, vec![0, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]);
        assert_eq!(spec.test_indices(1, 1)[0], vec![0; 16]);
    }

    #[test]
    fn train_window_lies_inside_the_video_and_is_seeded() {
        let spec = ClipSpec::default();
        for seed in 0..50 {
            let a = spec.train_indices(100, &mut rand::rngs::StdRng::seed_from_u64(seed));
            let b = spec.train_indices(100, &mut rand::rngs::StdRng::seed_from_u64(seed));
            assert_eq!(a, b);
            assert!(a.windows(2).all(|w| w[0] <= w[1]));
            assert!(*a.last().unwrap() < 100);
            assert!(a.last().unwrap() - a[0] <= 64);
            let p = spec.pretrain_indices(100, &mut rand::rngs::StdRng::seed_from_u64(seed));
            assert!(p.windows(2).all(|w| w[1] - w[0] == 4));
        }
    }
}
