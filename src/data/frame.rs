//! RGB8 frames (height × width × 3, row-major) and the geometric operations every view
//! needs: crop, PIL-style resize, rotation by multiples of 90°, flip.

use std::borrow::Borrow;

use super::resample::ResizePlan;

/// One decoded frame, RGB8, rows top to bottom, `data.len() == width * height * 3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Frame {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Self {
        assert_eq!(
            data.len(),
            width * height * 3,
            "frame buffer does not match {width}x{height}x3"
        );
        Self {
            width,
            height,
            data,
        }
    }

    /// A frame of one colour.
    pub fn filled(width: usize, height: usize, rgb: [u8; 3]) -> Self {
        let data = std::iter::repeat_n(rgb, width * height).flatten().collect();
        Self {
            width,
            height,
            data,
        }
    }

    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Crops `w × h` pixels at (`x`, `y`); the rectangle must lie inside the frame.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Frame {
        assert!(
            x + w <= self.width && y + h <= self.height,
            "crop outside the frame"
        );
        let mut data = Vec::with_capacity(w * h * 3);
        for row in y..y + h {
            let start = (row * self.width + x) * 3;
            data.extend_from_slice(&self.data[start..start + w * 3]);
        }
        Frame::new(w, h, data)
    }

    /// Mirrors left to right.
    pub fn flip_horizontal(&self) -> Frame {
        let mut data = Vec::with_capacity(self.data.len());
        for row in self.data.chunks_exact(self.width * 3) {
            for px in row.chunks_exact(3).rev() {
                data.extend_from_slice(px);
            }
        }
        Frame::new(self.width, self.height, data)
    }

    /// Rotates clockwise by `degrees` (0, 90, 180 or 270).
    pub fn rotate_clockwise(&self, degrees: u32) -> Frame {
        let (w, h) = (self.width, self.height);
        match degrees % 360 {
            0 => self.clone(),
            180 => {
                let data = self.data.chunks_exact(3).rev().flatten().copied().collect();
                Frame::new(w, h, data)
            }
            90 | 270 => {
                let cw = degrees % 360 == 90;
                let mut data = vec![0u8; self.data.len()];
                // Output is h wide, w high.
                for y in 0..h {
                    for x in 0..w {
                        let (ox, oy) = if cw { (h - 1 - y, x) } else { (y, w - 1 - x) };
                        let src = (y * w + x) * 3;
                        let dst = (oy * h + ox) * 3;
                        data[dst..dst + 3].copy_from_slice(&self.data[src..src + 3]);
                    }
                }
                Frame::new(h, w, data)
            }
            other => panic!("rotation by {other} degrees is not a multiple of 90"),
        }
    }

    /// Resizes with a triangle (bilinear) filter whose support widens when shrinking, as
    /// PIL's `Image.resize(..., BILINEAR)` does (what torchvision's Resize uses on images).
    pub fn resize(&self, out_w: usize, out_h: usize) -> Frame {
        self.resized_with(&ResizePlan::whole(self.width, self.height, out_w, out_h))
    }

    /// [`Frame::resize`] with the plan kept in `plan` and made anew only when this frame's
    /// size or the output size differs from the last one (a video's frames share one).
    pub fn resize_reusing(
        &self,
        out_w: usize,
        out_h: usize,
        plan: &mut Option<ResizePlan>,
    ) -> Frame {
        let fits = plan.as_ref().is_some_and(|p| {
            p.src_size() == (self.width, self.height) && p.out_size() == (out_w, out_h)
        });
        if !fits {
            *plan = Some(ResizePlan::whole(self.width, self.height, out_w, out_h));
        }
        self.resized_with(plan.as_ref().expect("made above"))
    }

    /// Resizes the region `[x0, x0+w) × [y0, y0+h)` (fractional allowed) to `out_w × out_h`.
    pub fn resize_region(
        &self,
        x0: f32,
        y0: f32,
        w: f32,
        h: f32,
        out_w: usize,
        out_h: usize,
    ) -> Frame {
        self.resized_with(&ResizePlan::new(
            self.width,
            self.height,
            (x0, y0, w, h),
            out_w,
            out_h,
        ))
    }

    /// Resizes with a plan made for this frame's size (one plan serves a clip's frames).
    pub fn resized_with(&self, plan: &ResizePlan) -> Frame {
        let (w, h) = plan.out_size();
        Frame::new(w, h, plan.apply(&self.data))
    }
}

/// Size after resizing the shorter side to `short` keeping the aspect ratio (torchvision's
/// `Resize(int)` rule: the longer side is truncated, `int(short * long / short_side)`).
pub fn short_side_size(width: usize, height: usize, short: usize) -> (usize, usize) {
    if width <= height {
        (
            short,
            ((short as f64 * height as f64 / width as f64) as usize).max(1),
        )
    } else {
        (
            ((short as f64 * width as f64 / height as f64) as usize).max(1),
            short,
        )
    }
}

/// Frames of a clip converted to a normalised `[3, T, H, W]` f32 tensor (C-order):
/// `(pixel / 255 - mean) / std` per channel.
pub fn to_normalized_tensor<F: Borrow<Frame>>(
    frames: &[F],
    mean: [f32; 3],
    std: [f32; 3],
) -> Vec<f32> {
    let t = frames.len();
    let (w, h) = (frames[0].borrow().width, frames[0].borrow().height);
    let plane = h * w;
    let mut out = vec![0f32; 3 * t * plane];
    let mut lut = [[0f32; 256]; 3];
    for c in 0..3 {
        for (v, slot) in lut[c].iter_mut().enumerate() {
            *slot = (v as f32 / 255.0 - mean[c]) / std[c];
        }
    }
    for (ti, f) in frames.iter().enumerate() {
        let f = f.borrow();
        assert!(
            f.width == w && f.height == h,
            "frames of one clip differ in size"
        );
        let (red, rest) = out.split_at_mut(t * plane);
        let (green, blue) = rest.split_at_mut(t * plane);
        let span = ti * plane..(ti + 1) * plane;
        let planes = red[span.clone()]
            .iter_mut()
            .zip(&mut green[span.clone()])
            .zip(&mut blue[span]);
        for (px, ((r, g), b)) in f.data.chunks_exact(3).zip(planes) {
            *r = lut[0][px[0] as usize];
            *g = lut[1][px[1] as usize];
            *b = lut[2][px[2] as usize];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Frame {
        let data = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [(x * 10) as u8, (y * 10) as u8, 7]))
            .collect();
        Frame::new(w, h, data)
    }

    #[test]
    fn rotations_move_corners_where_expected() {
        let f = gradient(3, 2);
        let cw = f.rotate_clockwise(90);
        assert_eq!((cw.width, cw.height), (2, 3));
        // The top-left pixel goes to the top-right after a clockwise turn.
        assert_eq!(cw.pixel(1, 0), f.pixel(0, 0));
        let ccw = f.rotate_clockwise(270);
        assert_eq!(ccw.pixel(0, 2), f.pixel(0, 0));
        assert_eq!(f.rotate_clockwise(180).pixel(0, 0), f.pixel(2, 1));
        assert_eq!(cw.rotate_clockwise(270), f);
    }

    #[test]
    fn resize_of_constant_image_stays_constant_and_identity_is_exact() {
        let f = Frame::filled(50, 30, [10, 200, 33]);
        let r = f.resize(17, 9);
        assert!(r.data.chunks(3).all(|p| p == [10, 200, 33]));
        let g = gradient(8, 8);
        assert_eq!(g.resize(8, 8), g);
    }

    #[test]
    fn a_kept_plan_serves_frames_of_its_size_and_is_remade_for_another() {
        let (a, b) = (gradient(12, 10), gradient(9, 7));
        let mut plan = None;
        assert_eq!(a.resize_reusing(5, 4, &mut plan), a.resize(5, 4));
        assert_eq!(a.resize_reusing(5, 4, &mut plan), a.resize(5, 4));
        assert_eq!(b.resize_reusing(5, 4, &mut plan), b.resize(5, 4));
        assert_eq!(plan.as_ref().map(|p| p.src_size()), Some((9, 7)));
        assert_eq!(b.resize_reusing(3, 3, &mut plan), b.resize(3, 3));
    }

    #[test]
    fn downscale_by_two_averages_pairs() {
        let f = Frame::new(2, 1, vec![0, 0, 0, 100, 100, 100]);
        assert_eq!(f.resize(1, 1).data, vec![50, 50, 50]);
    }

    #[test]
    fn short_side_follows_torchvision_rule() {
        assert_eq!(short_side_size(224, 224, 160), (160, 160));
        assert_eq!(short_side_size(320, 240, 160), (213, 160));
        assert_eq!(short_side_size(240, 320, 160), (160, 213));
    }

    #[test]
    fn tensor_is_channel_major_and_normalised() {
        let f = Frame::filled(2, 2, [255, 0, 0]);
        let t = to_normalized_tensor(&[f.clone(), f], [0.5; 3], [0.5; 3]);
        assert_eq!(t.len(), 3 * 2 * 4);
        assert!(t[..8].iter().all(|&v| (v - 1.0).abs() < 1e-6));
        assert!(t[8..].iter().all(|&v| (v + 1.0).abs() < 1e-6));
    }
}
