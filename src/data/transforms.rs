//! Spatial transforms of a clip, applied identically to every frame (paper §4.1 and the
//! released VideoMAE-style code). All randomness comes from the caller's RNG.

use rand::Rng;

use super::frame::Frame;
use super::resample::ResizePlan;

/// Centre crop of `size × size` (frames must be at least that large; smaller frames are
/// scaled up first so the crop always fits).
pub fn center_crop(frames: &[Frame], w: usize, h: usize) -> Vec<Frame> {
    let mut plan = None;
    frames
        .iter()
        .map(|f| {
            let f = if f.width < w || f.height < h {
                let s = (w as f64 / f.width as f64).max(h as f64 / f.height as f64);
                f.resize_reusing(
                    ((f.width as f64 * s).ceil() as usize).max(w),
                    ((f.height as f64 * s).ceil() as usize).max(h),
                    &mut plan,
                )
            } else {
                f.clone()
            };
            // torchvision CenterCrop rounds the offsets: int(round((H - h) / 2)).
            let x = ((f.width - w) as f64 / 2.0).round() as usize;
            let y = ((f.height - h) as f64 / 2.0).round() as usize;
            f.crop(x, y, w, h)
        })
        .collect()
}

/// A fixed crop `rows y0..y1, cols x0..x1` (the pre-training face crop: rows 0–160, cols
/// 32–192 of 224×224 VoxCeleb2 frames). Skipped when the frames are too small for it.
pub fn fixed_crop(frames: &[Frame], rect: [usize; 4]) -> Vec<Frame> {
    let [y0, y1, x0, x1] = rect;
    frames
        .iter()
        .map(|f| {
            if f.height >= y1 && f.width >= x1 {
                f.crop(x0, y0, x1 - x0, y1 - y0)
            } else {
                f.clone()
            }
        })
        .collect()
}

/// GroupMultiScaleCrop (TSN / VideoMAE pre-training, scales {1, .875, .75, .66},
/// max_distort 1, fixed offsets with more_fix_crop), then a resize to `size × size`.
pub fn multi_scale_crop(
    frames: &[Frame],
    size: usize,
    scales: &[f64],
    rng: &mut impl Rng,
) -> Vec<Frame> {
    let (iw, ih) = (frames[0].width, frames[0].height);
    let base = iw.min(ih) as f64;
    let sizes: Vec<usize> = scales.iter().map(|s| (base * s) as usize).collect();
    let snap = |x: usize| {
        if (x as i64 - size as i64).abs() < 3 {
            size
        } else {
            x
        }
    };
    let mut pairs = Vec::new();
    for (i, &h) in sizes.iter().enumerate() {
        for (j, &w) in sizes.iter().enumerate() {
            if i.abs_diff(j) <= 1 {
                pairs.push((snap(w).min(iw), snap(h).min(ih)));
            }
        }
    }
    let (cw, ch) = pairs[rng.random_range(0..pairs.len())];
    let (ws, hs) = ((iw - cw) / 4, (ih - ch) / 4);
    let offsets = [
        (0, 0),
        (4 * ws, 0),
        (0, 4 * hs),
        (4 * ws, 4 * hs),
        (2 * ws, 2 * hs),
        (0, 2 * hs),
        (4 * ws, 2 * hs),
        (2 * ws, 4 * hs),
        (2 * ws, 0),
        (ws, hs),
        (3 * ws, hs),
        (ws, 3 * hs),
        (3 * ws, 3 * hs),
    ];
    let (x, y) = offsets[rng.random_range(0..offsets.len())];
    let plan = ResizePlan::new(cw, ch, (0.0, 0.0, cw as f32, ch as f32), size, size);
    frames
        .iter()
        .map(|f| f.crop(x, y, cw, ch).resized_with(&plan))
        .collect()
}

/// The crop rectangle of a random resized crop (torchvision `RandomResizedCrop.get_params`,
/// as VideoMAE's `random_resized_crop`): area fraction in `scale`, aspect ratio log-uniform
/// in `ratio`, 10 tries, then a centre crop clamped to the ratio range.
pub fn random_resized_crop_params(
    w: usize,
    h: usize,
    scale: (f64, f64),
    ratio: (f64, f64),
    rng: &mut impl Rng,
) -> (usize, usize, usize, usize) {
    let area = (w * h) as f64;
    let (lr0, lr1) = (ratio.0.ln(), ratio.1.ln());
    for _ in 0..10 {
        let target = area * rng.random_range(scale.0..=scale.1);
        let ar = rng.random_range(lr0..=lr1).exp();
        let cw = (target * ar).sqrt().round() as usize;
        let ch = (target / ar).sqrt().round() as usize;
        if cw > 0 && ch > 0 && cw <= w && ch <= h {
            let x = rng.random_range(0..=w - cw);
            let y = rng.random_range(0..=h - ch);
            return (x, y, cw, ch);
        }
    }
    let in_ratio = w as f64 / h as f64;
    let (cw, ch) = if in_ratio < ratio.0 {
        (w, (w as f64 / ratio.0).round() as usize)
    } else if in_ratio > ratio.1 {
        ((h as f64 * ratio.1).round() as usize, h)
    } else {
        (w, h)
    };
    ((w - cw) / 2, (h - ch) / 2, cw, ch)
}

/// Random resized crop to `size × size` (scale 0.08–1, ratio 3/4–4/3 in fine-tuning).
pub fn random_resized_crop(
    frames: &[Frame],
    size: usize,
    scale: (f64, f64),
    ratio: (f64, f64),
    rng: &mut impl Rng,
) -> Vec<Frame> {
    let (w, h) = (frames[0].width, frames[0].height);
    let (x, y, cw, ch) = random_resized_crop_params(w, h, scale, ratio, rng);
    let plan = ResizePlan::new(w, h, (x as f32, y as f32, cw as f32, ch as f32), size, size);
    frames.iter().map(|f| f.resized_with(&plan)).collect()
}

/// Horizontal flip of every frame with probability `p`.
pub fn random_flip(frames: Vec<Frame>, p: f64, rng: &mut impl Rng) -> Vec<Frame> {
    if rng.random_bool(p) {
        frames.iter().map(Frame::flip_horizontal).collect()
    } else {
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn clip(w: usize, h: usize) -> Vec<Frame> {
        (0..3)
            .map(|i| Frame::filled(w, h, [i as u8 * 50, 10, 10]))
            .collect()
    }

    #[test]
    fn crops_have_the_requested_size_and_keep_frame_count() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let c = clip(224, 224);
        for f in multi_scale_crop(&c, 160, &[1.0, 0.875, 0.75, 0.66], &mut rng) {
            assert_eq!((f.width, f.height), (160, 160));
        }
        let r = random_resized_crop(&c, 96, (0.08, 1.0), (0.75, 4.0 / 3.0), &mut rng);
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|f| f.width == 96 && f.height == 96));
        let fc = fixed_crop(&c, [0, 160, 32, 192]);
        assert_eq!((fc[0].width, fc[0].height), (160, 160));
        let cc = center_crop(&clip(213, 160), 160, 160);
        assert_eq!((cc[0].width, cc[0].height), (160, 160));
    }

    #[test]
    fn resized_crop_params_respect_scale_and_ratio() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for _ in 0..200 {
            let (x, y, w, h) =
                random_resized_crop_params(160, 120, (0.08, 1.0), (0.75, 4.0 / 3.0), &mut rng);
            assert!(x + w <= 160 && y + h <= 120 && w > 0 && h > 0);
        }
    }
}
