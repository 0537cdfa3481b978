//! RandAugment's ops on an RGB8 frame, in place, one pass each, with PIL's arithmetic (what
//! timm applies to PIL images): pointwise ops through 256-entry tables, blends towards grey,
//! the mean or a smoothed copy, and affine resampling with a fill colour (`affine_warp`). Tables and warps
//! are prepared once per clip ([`PreparedOp`]) and applied to each of its frames.
//!
//! Filtered values become levels with [`to_level`] (clamp, round half away from zero).

use super::affine_warp::Warp;
use super::frame::Frame;
use super::level::to_level;

/// One op with its parameter resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    AutoContrast,
    Equalize,
    Invert,
    Rotate(f64),
    Posterize(u32),
    Solarize(u32),
    SolarizeAdd(i32),
    Color(f64),
    Contrast(f64),
    Brightness(f64),
    Sharpness(f64),
    ShearX(f64),
    ShearY(f64),
    TranslateX(f64),
    TranslateY(f64),
}

/// PIL "L" conversion (ITU-R 601-2), as f32 like the blend that uses it.
#[inline(always)]
fn luma(p: &[u8]) -> f32 {
    (p[0] as f32 * 299.0 + p[1] as f32 * 587.0 + p[2] as f32 * 114.0) / 1000.0
}

/// A table for every channel alike.
fn lut(g: impl Fn(u8) -> u8) -> [u8; 256] {
    std::array::from_fn(|v| g(v as u8))
}

fn apply_lut(data: &mut [u8], lut: &[u8; 256]) {
    for v in data {
        *v = lut[*v as usize];
    }
}

fn apply_luts(data: &mut [u8], luts: &[[u8; 256]; 3]) {
    for p in data.chunks_exact_mut(3) {
        p[0] = luts[0][p[0] as usize];
        p[1] = luts[1][p[1] as usize];
        p[2] = luts[2][p[2] as usize];
    }
}

/// `x → round(y + k (x − y))` for a constant `y`, as a table.
fn blend_lut(y: f32, k: f32) -> [u8; 256] {
    lut(|x| to_level(y + k * (x as f32 - y)))
}

fn histograms(data: &[u8]) -> [[u32; 256]; 3] {
    let mut hist = [[0u32; 256]; 3];
    for p in data.chunks_exact(3) {
        hist[0][p[0] as usize] += 1;
        hist[1][p[1] as usize] += 1;
        hist[2][p[2] as usize] += 1;
    }
    hist
}

fn autocontrast_luts(hist: &[[u32; 256]; 3]) -> [[u8; 256]; 3] {
    std::array::from_fn(|c| {
        let lo = hist[c].iter().position(|&n| n > 0).unwrap_or(0);
        let hi = hist[c].iter().rposition(|&n| n > 0).unwrap_or(0);
        if hi <= lo {
            lut(|v| v)
        } else {
            let span = (hi - lo) as f32;
            lut(|v| to_level((v as f32 - lo as f32) * 255.0 / span))
        }
    })
}

/// PIL `ImageOps.equalize`, per channel.
fn equalize_luts(hist: &[[u32; 256]; 3]) -> [[u8; 256]; 3] {
    std::array::from_fn(|c| {
        let h = &hist[c];
        let last = h.iter().rposition(|&n| n > 0).map(|i| h[i] as usize);
        let nonzero = h.iter().filter(|&&n| n > 0).count();
        let step = if nonzero <= 1 {
            0
        } else {
            (h.iter().map(|&n| n as usize).sum::<usize>() - last.unwrap_or(0)) / 255
        };
        if step == 0 {
            return lut(|v| v);
        }
        let mut out = [0u8; 256];
        let mut n = step / 2;
        for (i, v) in out.iter_mut().enumerate() {
            *v = (n / step).min(255) as u8;
            n += h[i] as usize;
        }
        out
    })
}

/// Blend with the frame's grey version (PIL `ImageEnhance.Color`).
fn color(data: &mut [u8], k: f32) {
    for p in data.chunks_exact_mut(3) {
        let y = luma(p);
        for v in p.iter_mut() {
            *v = to_level(y + k * (*v as f32 - y));
        }
    }
}

/// PIL `ImageEnhance.Contrast`: blend with the rounded mean grey level.
fn contrast(data: &mut [u8], k: f32) {
    let n = (data.len() / 3) as f32;
    // The same sequential f32 sum as PIL's reference port, so the mean rounds alike.
    let sum: f32 = data.chunks_exact(3).map(luma).sum();
    let mean = (sum / n + 0.5).floor();
    apply_lut(data, &blend_lut(mean, k));
}

/// PIL `ImageEnhance.Sharpness`: blend with the SMOOTH-filtered frame
/// (`[[1,1,1],[1,5,1],[1,1,1]] / 13`), border pixels unchanged.
fn sharpness(f: &mut Frame, k: f32, scratch: &mut Vec<u8>) {
    let (w, h) = (f.width, f.height);
    if w < 3 || h < 3 {
        return;
    }
    let stride = w * 3;
    scratch.clear();
    scratch.extend_from_slice(&f.data);
    let src = &scratch[..];
    // Column sums of three rows, reused along the row.
    let mut col = vec![0u16; stride];
    for y in 1..h - 1 {
        let (up, mid, down) = (
            &src[(y - 1) * stride..y * stride],
            &src[y * stride..(y + 1) * stride],
            &src[(y + 1) * stride..(y + 2) * stride],
        );
        for i in 0..stride {
            col[i] = up[i] as u16 + mid[i] as u16 + down[i] as u16;
        }
        let out = &mut f.data[y * stride..(y + 1) * stride];
        for i in 3..stride - 3 {
            let acc = col[i - 3] + col[i] + col[i + 3] + 4 * mid[i] as u16;
            let smooth = (acc as f32 / 13.0 + 0.5) as u8 as f32;
            out[i] = to_level(smooth + k * (mid[i] as f32 - smooth));
        }
    }
}

/// An op made ready for frames of one size: its table or warp computed once, applied to
/// every frame of a clip.
#[derive(Debug, Clone)]
pub struct PreparedOp(Prepared);

// At most four per clip (RandAugment n = 4), made once and read for every frame: the
// 256-byte table inline spares a pointer chase per pixel.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Prepared {
    Lut([u8; 256]),
    AutoContrast,
    Equalize,
    Color(f32),
    Contrast(f32),
    Sharpness(f32),
    Warp(Warp),
}

impl PreparedOp {
    pub fn new(op: Op, width: usize, height: usize) -> Self {
        let (w, h) = (width as f64, height as f64);
        let warp = |m| Prepared::Warp(Warp::new(width, height, m));
        PreparedOp(match op {
            Op::AutoContrast => Prepared::AutoContrast,
            Op::Equalize => Prepared::Equalize,
            Op::Invert => Prepared::Lut(lut(|v| 255 - v)),
            Op::Posterize(bits) => {
                let mask = if bits >= 8 {
                    0xFF
                } else {
                    !((1u16 << (8 - bits)) - 1) as u8
                };
                Prepared::Lut(lut(|v| v & mask))
            }
            Op::Solarize(th) => Prepared::Lut(lut(|v| if (v as u32) < th { v } else { 255 - v })),
            Op::SolarizeAdd(add) => Prepared::Lut(lut(|v| {
                if v < 128 {
                    (v as i32 + add).clamp(0, 255) as u8
                } else {
                    v
                }
            })),
            Op::Color(k) => Prepared::Color(k as f32),
            Op::Contrast(k) => Prepared::Contrast(k as f32),
            Op::Brightness(k) => Prepared::Lut(blend_lut(0.0, k as f32)),
            Op::Sharpness(k) => Prepared::Sharpness(k as f32),
            Op::Rotate(deg) => {
                // Rotate about the centre (PIL rotate: counter-clockwise for positive angles).
                let (cx, cy) = (w / 2.0, h / 2.0);
                let a = -deg.to_radians();
                let (cos, sin) = (a.cos(), a.sin());
                let m = [cos, sin, 0.0, -sin, cos, 0.0];
                let c = cx - m[0] * cx - m[1] * cy;
                let f2 = cy - m[3] * cx - m[4] * cy;
                warp([m[0], m[1], c, m[3], m[4], f2])
            }
            Op::ShearX(s) => warp([1.0, s, 0.0, 0.0, 1.0, 0.0]),
            Op::ShearY(s) => warp([1.0, 0.0, 0.0, s, 1.0, 0.0]),
            Op::TranslateX(p) => warp([1.0, 0.0, p * w, 0.0, 1.0, 0.0]),
            Op::TranslateY(p) => warp([1.0, 0.0, 0.0, 0.0, 1.0, p * h]),
        })
    }

    /// Applies the op to `f` in place; `scratch` is reused between calls.
    pub fn apply(&self, f: &mut Frame, scratch: &mut Vec<u8>) {
        match &self.0 {
            Prepared::Lut(table) => apply_lut(&mut f.data, table),
            Prepared::AutoContrast => {
                let luts = autocontrast_luts(&histograms(&f.data));
                apply_luts(&mut f.data, &luts);
            }
            Prepared::Equalize => {
                let luts = equalize_luts(&histograms(&f.data));
                apply_luts(&mut f.data, &luts);
            }
            Prepared::Color(k) => color(&mut f.data, *k),
            Prepared::Contrast(k) => contrast(&mut f.data, *k),
            Prepared::Sharpness(k) => sharpness(f, *k, scratch),
            Prepared::Warp(warp) => warp.apply(f, scratch),
        }
    }
}

/// One op on a copy of `f`.
pub fn apply(f: &Frame, op: Op) -> Frame {
    let mut out = f.clone();
    PreparedOp::new(op, f.width, f.height).apply(&mut out, &mut Vec::new());
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A 12×10 frame of random pixels.
    pub(crate) fn noise_frame(seed: u64) -> Frame {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        Frame::new(12, 10, (0..360).map(|_| rng.random()).collect())
    }

    #[test]
    fn every_op_keeps_the_size_and_identities_hold() {
        let f = noise_frame(1);
        let ops = [
            Op::AutoContrast,
            Op::Equalize,
            Op::Invert,
            Op::Rotate(20.0),
            Op::Posterize(2),
            Op::Solarize(77),
            Op::SolarizeAdd(77),
            Op::Color(1.5),
            Op::Contrast(0.4),
            Op::Brightness(1.6),
            Op::Sharpness(1.6),
            Op::ShearX(0.2),
            Op::ShearY(-0.2),
            Op::TranslateX(0.3),
            Op::TranslateY(-0.3),
        ];
        for op in ops {
            let g = apply(&f, op);
            assert_eq!((g.width, g.height), (12, 10), "{op:?}");
        }
        assert_eq!(apply(&apply(&f, Op::Invert), Op::Invert), f);
        assert_eq!(apply(&f, Op::Brightness(1.0)), f);
        assert_eq!(apply(&f, Op::Rotate(0.0)), f);
        assert_eq!(apply(&f, Op::TranslateX(0.0)), f);
    }
}
