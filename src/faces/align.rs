//! Square face crops from a detection: either a similarity transform that puts the five
//! landmarks on a canonical template (insightface's ArcFace alignment, with more margin), or
//! a square box around the detection box (MARLIN's preprocessing; no landmarks needed).

use super::detect::Face;
use super::error::{FacesError, FacesResult};
use crate::data::frame::Frame;

/// insightface's ArcFace template for 112×112 crops (`arcface_dst` in insightface's
/// `face_align.py`): left eye, right eye, nose tip, mouth left, mouth right.
pub const ARCFACE_112: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// How a face becomes a crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignMode {
    /// Similarity transform of the landmarks onto the template: removes in-plane rotation.
    Landmarks,
    /// Square around the box centre with the box's longer side, upright (MARLIN).
    Box,
}

/// Crop settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignConfig {
    /// Output side in pixels (SVFAP's input is 224² or 160²).
    pub size: usize,
    pub mode: AlignMode,
    /// Extra context as a fraction of the face: the template is shrunk towards the crop
    /// centre by `1 / (1 + margin)`, or the box side grown by `1 + margin`. ArcFace's
    /// template (margin 0) cuts at the brows and chin; DFEW and FERV39k clips are loose face
    /// crops with hair and chin, which margin 0.25 (landmarks) comes close to.
    pub margin: f32,
}

impl Default for AlignConfig {
    fn default() -> Self {
        Self {
            size: 224,
            mode: AlignMode::Landmarks,
            margin: 0.25,
        }
    }
}

impl AlignConfig {
    pub fn validate(&self) -> FacesResult<()> {
        if self.size == 0 || self.size > 4096 {
            return Err(FacesError::Config {
                field: "size",
                problem: format!("is {}, must lie in 1..=4096", self.size),
            });
        }
        if !(self.margin > -0.5 && self.margin <= 4.0) {
            return Err(FacesError::Config {
                field: "margin",
                problem: format!("is {}, must lie in (-0.5, 4]", self.margin),
            });
        }
        Ok(())
    }

    /// The five template points in output pixels.
    pub fn template(&self) -> [[f32; 2]; 5] {
        let s = self.size as f32 / 112.0 / (1.0 + self.margin);
        let c = self.size as f32 / 2.0;
        ARCFACE_112.map(|[x, y]| [(x - 56.0) * s + c, (y - 56.0) * s + c])
    }
}

/// `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`: rotation, uniform scale, translation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// Least-squares similarity taking `src` onto `dst` (Umeyama 1991 without reflection;
    /// in 2-D its rotation-scale has the closed form below). None for fewer than two
    /// distinct points.
    pub fn estimate(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Self> {
        assert_eq!(src.len(), dst.len());
        let n = src.len() as f64;
        if src.len() < 2 {
            return None;
        }
        let mean = |p: &[[f32; 2]]| {
            let (sx, sy) = p
                .iter()
                .fold((0.0, 0.0), |(x, y), q| (x + q[0] as f64, y + q[1] as f64));
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut dot, mut cross, mut var) = (0.0f64, 0.0f64, 0.0f64);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
            let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
            var += sx * sx + sy * sy;
        }
        if var < 1e-12 {
            return None;
        }
        let (a, b) = (dot / var, cross / var);
        Some(Self {
            a: a as f32,
            b: b as f32,
            tx: (mdx - (a * msx - b * msy)) as f32,
            ty: (mdy - (b * msx + a * msy)) as f32,
        })
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// Rotation in radians (counter-clockwise in x-right, y-down image coordinates is
    /// negative).
    pub fn angle(&self) -> f32 {
        self.b.atan2(self.a)
    }

    pub fn inverse(&self) -> Self {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Self {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }
}

/// Renders `out_w × out_h` where output pixel centre `p` shows source point
/// `to_output⁻¹(p)`, bilinear, black outside the frame. (Faces in 360p–1080p video are
/// mostly enlarged to 224², where bilinear needs no anti-aliasing.)
pub fn warp(frame: &Frame, to_output: &Similarity, out_w: usize, out_h: usize) -> Frame {
    let inv = to_output.inverse();
    let mut data = vec![0u8; out_w * out_h * 3];
    let (w, h) = (frame.width as isize, frame.height as isize);
    for oy in 0..out_h {
        for ox in 0..out_w {
            // Pixel centres at integer coordinates, as cv2.warpAffine and the landmarks use.
            let [sx, sy] = inv.apply([ox as f32, oy as f32]);
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as isize, y0 as isize);
            let mut acc = [0f32; 3];
            for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
                for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
                    let (x, y) = (x0 + dx, y0 + dy);
                    if x < 0 || y < 0 || x >= w || y >= h || wx * wy == 0.0 {
                        continue;
                    }
                    let px = frame.pixel(x as usize, y as usize);
                    for c in 0..3 {
                        acc[c] += wx * wy * px[c] as f32;
                    }
                }
            }
            let o = (oy * out_w + ox) * 3;
            for c in 0..3 {
                data[o + c] = acc[c].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Frame::new(out_w, out_h, data)
}

/// The transform from frame pixels to crop pixels for `face`.
pub fn crop_transform(face: &Face, cfg: &AlignConfig) -> Similarity {
    let boxed = || {
        let [cx, cy] = face.centre();
        let side = face.width().max(face.height()).max(1.0) * (1.0 + cfg.margin);
        let s = cfg.size as f32 / side;
        let half = cfg.size as f32 / 2.0;
        Similarity {
            a: s,
            b: 0.0,
            tx: half - s * cx,
            ty: half - s * cy,
        }
    };
    match cfg.mode {
        AlignMode::Box => boxed(),
        // Degenerate landmarks (all in one point) fall back to the box.
        AlignMode::Landmarks => {
            Similarity::estimate(&face.landmarks, &cfg.template()).unwrap_or_else(boxed)
        }
    }
}

/// The aligned `size × size` crop of `face`.
pub fn align(frame: &Frame, face: &Face, cfg: &AlignConfig) -> Frame {
    warp(frame, &crop_transform(face, cfg), cfg.size, cfg.size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f32; 2], b: [f32; 2], tol: f32) -> bool {
        (a[0] - b[0]).abs() < tol && (a[1] - b[1]).abs() < tol
    }

    #[test]
    fn estimate_recovers_a_known_transform() {
        let (scale, angle) = (1.7f32, 0.4f32);
        let t = Similarity {
            a: scale * angle.cos(),
            b: scale * angle.sin(),
            tx: 12.0,
            ty: -5.0,
        };
        let src = ARCFACE_112;
        let dst = src.map(|p| t.apply(p));
        let est = Similarity::estimate(&src, &dst).unwrap();
        assert!((est.scale() - scale).abs() < 1e-4);
        assert!((est.angle() - angle).abs() < 1e-4);
        assert!((est.tx - 12.0).abs() < 1e-2 && (est.ty + 5.0).abs() < 1e-2);
        let back = est.inverse();
        for p in src {
            assert!(close(back.apply(est.apply(p)), p, 1e-3));
        }
    }

    #[test]
    fn estimate_is_least_squares_under_noise_and_rejects_one_point() {
        let src = ARCFACE_112;
        // Symmetric noise on a pure translation leaves scale 1 and angle 0 nearly.
        let noise = [
            [0.5, -0.5],
            [-0.5, 0.5],
            [0.0, 0.0],
            [0.5, 0.5],
            [-0.5, -0.5],
        ];
        let dst: Vec<[f32; 2]> = src
            .iter()
            .zip(noise)
            .map(|(p, n)| [p[0] + 3.0 + n[0], p[1] + n[1]])
            .collect();
        let est = Similarity::estimate(&src, &dst).unwrap();
        assert!((est.scale() - 1.0).abs() < 0.02 && est.angle().abs() < 0.02);
        assert!(Similarity::estimate(&src[..1], &dst[..1]).is_none());
        assert!(Similarity::estimate(&[[1.0, 1.0]; 3], &[[0.0, 0.0]; 3]).is_none());
    }

    #[test]
    fn warp_moves_a_marked_pixel_where_the_transform_says() {
        let mut f = Frame::filled(40, 30, [0, 0, 0]);
        let i = (10 * 40 + 20) * 3;
        f.data[i..i + 3].copy_from_slice(&[255, 128, 7]);
        // Scale 2 about the origin, then shift by (1, 3): (20, 10) → (41, 23).
        let t = Similarity {
            a: 2.0,
            b: 0.0,
            tx: 1.0,
            ty: 3.0,
        };
        let out = warp(&f, &t, 60, 40);
        assert_eq!(out.pixel(41, 23), [255, 128, 7]);
        // Halfway between the marked pixel and its black neighbour: half the value.
        assert_eq!(out.pixel(42, 23), [128, 64, 4]);
        // Outside the source: black.
        let shifted = Similarity { tx: -100.0, ..t };
        assert!(warp(&f, &shifted, 10, 10).data.iter().all(|&v| v == 0));
    }

    #[test]
    fn landmark_alignment_puts_the_landmarks_on_the_template() {
        let cfg = AlignConfig::default();
        // A face rotated by 30° and at half the template's scale, somewhere in a frame.
        let tpl = cfg.template();
        let t = Similarity {
            a: 0.5 * std::f32::consts::FRAC_PI_6.cos(),
            b: 0.5 * std::f32::consts::FRAC_PI_6.sin(),
            tx: 40.0,
            ty: 20.0,
        };
        let face = Face {
            bbox: [0.0, 0.0, 10.0, 10.0],
            score: 1.0,
            landmarks: tpl.map(|p| t.apply(p)),
        };
        let m = crop_transform(&face, &cfg);
        for (l, p) in face.landmarks.iter().zip(tpl) {
            assert!(close(m.apply(*l), p, 1e-2));
        }
        // Margin 0 is insightface's 112 template scaled to the output.
        let tight = AlignConfig {
            margin: 0.0,
            size: 112,
            ..cfg
        };
        assert!(close(tight.template()[0], ARCFACE_112[0], 1e-4));
    }

    #[test]
    fn box_mode_centres_the_box_with_margin() {
        let cfg = AlignConfig {
            size: 100,
            mode: AlignMode::Box,
            margin: 0.25,
        };
        let face = Face {
            bbox: [100.0, 50.0, 180.0, 150.0],
            score: 1.0,
            landmarks: [[0.0; 2]; 5],
        };
        let m = crop_transform(&face, &cfg);
        assert!(close(m.apply(face.centre()), [50.0, 50.0], 1e-4));
        // Box height 100 grown by 25 % fills the 100-pixel crop: the top edge lands at 10.
        assert!(close(m.apply([140.0, 50.0]), [50.0, 10.0], 1e-3));
        assert!(
            AlignConfig { size: 0, ..cfg }
                .validate()
                .unwrap_err()
                .to_string()
                .contains("`size`")
        );
    }
}
