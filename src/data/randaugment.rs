//! RandAugment as timm's `rand-m7-n4-mstd0.5-inc1` (the fine-tuning recipe, DESIGN §6):
//! 4 ops drawn with replacement from the 15 "increasing" ops, each applied with probability
//! 0.5 at a magnitude drawn from N(7, 0.5) clipped to [0, 10]. One draw per clip: every frame
//! gets the same ops with the same parameters.

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::frame::Frame;

/// Fill colour of geometric ops: the ImageNet mean in 0–255 (timm `img_mean`).
const FILL: [u8; 3] = [124, 116, 104];
const MAX_LEVEL: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandAugmentConfig {
    pub magnitude: f64,
    pub num_ops: usize,
    pub magnitude_std: f64,
    pub prob: f64,
}

impl Default for RandAugmentConfig {
    fn default() -> Self {
        Self {
            magnitude: 7.0,
            num_ops: 4,
            magnitude_std: 0.5,
            prob: 0.5,
        }
    }
}

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

/// Draws the ops for one clip.
pub fn sample_ops(cfg: &RandAugmentConfig, rng: &mut impl Rng) -> Vec<Op> {
    let mut ops = Vec::new();
    for _ in 0..cfg.num_ops {
        let which = rng.random_range(0..15);
        let apply = rng.random_bool(cfg.prob);
        let mut m = cfg.magnitude;
        if cfg.magnitude_std > 0.0 {
            m = Normal::new(m, cfg.magnitude_std).unwrap().sample(rng);
        }
        let m = m.clamp(0.0, MAX_LEVEL) / MAX_LEVEL;
        let sign = if rng.random_bool(0.5) { -1.0 } else { 1.0 };
        if !apply {
            continue;
        }
        let enhance = 1.0 + sign * m * 0.9;
        ops.push(match which {
            0 => Op::AutoContrast,
            1 => Op::Equalize,
            2 => Op::Invert,
            3 => Op::Rotate(sign * m * 30.0),
            4 => Op::Posterize(4 - (m * 4.0) as u32),
            5 => Op::Solarize(256 - (m * 256.0) as u32),
            6 => Op::SolarizeAdd((m * 110.0) as i32),
            7 => Op::Color(enhance),
            8 => Op::Contrast(enhance),
            9 => Op::Brightness(enhance),
            10 => Op::Sharpness(enhance),
            11 => Op::ShearX(sign * m * 0.3),
            12 => Op::ShearY(sign * m * 0.3),
            13 => Op::TranslateX(sign * m * 0.45),
            _ => Op::TranslateY(sign * m * 0.45),
        });
    }
    ops
}

/// Applies RandAugment to a clip: one draw of ops, the same for every frame.
pub fn rand_augment(frames: Vec<Frame>, cfg: &RandAugmentConfig, rng: &mut impl Rng) -> Vec<Frame> {
    let ops = sample_ops(cfg, rng);
    if ops.is_empty() {
        return frames;
    }
    frames
        .into_iter()
        .map(|f| ops.iter().fold(f, |f, op| apply(&f, *op)))
        .collect()
}

fn map_pixels(f: &Frame, g: impl Fn(usize, u8) -> u8) -> Frame {
    let data = f
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| g(i % 3, v))
        .collect();
    Frame::new(f.width, f.height, data)
}

fn blend(a: &Frame, b: &[f32], factor: f64) -> Frame {
    let k = factor as f32;
    let data = a
        .data
        .iter()
        .zip(b)
        .map(|(&x, &y)| (y + k * (x as f32 - y)).round().clamp(0.0, 255.0) as u8)
        .collect();
    Frame::new(a.width, a.height, data)
}

fn luma(p: &[u8]) -> f32 {
    // PIL "L" conversion (ITU-R 601-2).
    (p[0] as f32 * 299.0 + p[1] as f32 * 587.0 + p[2] as f32 * 114.0) / 1000.0
}

/// Affine resampling: output pixel (x, y) takes input (a x + b y + c, d x + e y + f), bilinear,
/// FILL outside (PIL `Image.transform` convention).
fn affine(f: &Frame, m: [f64; 6]) -> Frame {
    let (w, h) = (f.width, f.height);
    let mut data = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f64 + 0.5, y as f64 + 0.5);
            let sx = m[0] * xf + m[1] * yf + m[2] - 0.5;
            let sy = m[3] * xf + m[4] * yf + m[5] - 0.5;
            let dst = &mut data[(y * w + x) * 3..(y * w + x) * 3 + 3];
            if sx < -0.5 || sy < -0.5 || sx > w as f64 - 0.5 || sy > h as f64 - 0.5 {
                dst.copy_from_slice(&FILL);
                continue;
            }
            let x0 = sx.floor().clamp(0.0, (w - 1) as f64) as usize;
            let y0 = sy.floor().clamp(0.0, (h - 1) as f64) as usize;
            let x1 = (x0 + 1).min(w - 1);
            let y1 = (y0 + 1).min(h - 1);
            let (ax, ay) = (
                (sx - x0 as f64).clamp(0.0, 1.0),
                (sy - y0 as f64).clamp(0.0, 1.0),
            );
            for (c, out) in dst.iter_mut().enumerate() {
                let p = |xx: usize, yy: usize| f.data[(yy * w + xx) * 3 + c] as f64;
                let v = (1.0 - ay) * ((1.0 - ax) * p(x0, y0) + ax * p(x1, y0))
                    + ay * ((1.0 - ax) * p(x0, y1) + ax * p(x1, y1));
                *out = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Frame::new(w, h, data)
}

pub fn apply(f: &Frame, op: Op) -> Frame {
    let (w, h) = (f.width as f64, f.height as f64);
    match op {
        Op::AutoContrast => {
            let mut lo = [255u8; 3];
            let mut hi = [0u8; 3];
            for p in f.data.chunks_exact(3) {
                for c in 0..3 {
                    lo[c] = lo[c].min(p[c]);
                    hi[c] = hi[c].max(p[c]);
                }
            }
            map_pixels(f, |c, v| {
                if hi[c] <= lo[c] {
                    v
                } else {
                    ((v as f32 - lo[c] as f32) * 255.0 / (hi[c] - lo[c]) as f32)
                        .round()
                        .clamp(0.0, 255.0) as u8
                }
            })
        }
        Op::Equalize => {
            // PIL ImageOps.equalize, per channel.
            let mut luts = [[0u8; 256]; 3];
            for (c, lut) in luts.iter_mut().enumerate() {
                let mut hist = [0usize; 256];
                for p in f.data.chunks_exact(3) {
                    hist[p[c] as usize] += 1;
                }
                let nonzero: Vec<usize> = hist.iter().copied().filter(|&v| v > 0).collect();
                let step = if nonzero.len() <= 1 {
                    0
                } else {
                    (nonzero.iter().sum::<usize>() - nonzero.last().unwrap()) / 255
                };
                if step == 0 {
                    for (i, v) in lut.iter_mut().enumerate() {
                        *v = i as u8;
                    }
                } else {
                    let mut n = step / 2;
                    for (i, v) in lut.iter_mut().enumerate() {
                        *v = (n / step).min(255) as u8;
                        n += hist[i];
                    }
                }
            }
            map_pixels(f, |c, v| luts[c][v as usize])
        }
        Op::Invert => map_pixels(f, |_, v| 255 - v),
        Op::Posterize(bits) => {
            let mask = if bits >= 8 {
                0xFF
            } else {
                !((1u16 << (8 - bits)) - 1) as u8
            };
            map_pixels(f, |_, v| v & mask)
        }
        Op::Solarize(th) => map_pixels(f, |_, v| if (v as u32) < th { v } else { 255 - v }),
        Op::SolarizeAdd(add) => map_pixels(f, |_, v| {
            if v < 128 {
                (v as i32 + add).clamp(0, 255) as u8
            } else {
                v
            }
        }),
        Op::Color(k) => {
            let grey: Vec<f32> = f.data.chunks_exact(3).flat_map(|p| [luma(p); 3]).collect();
            blend(f, &grey, k)
        }
        Op::Contrast(k) => {
            let n = (f.width * f.height) as f32;
            let mean = (f.data.chunks_exact(3).map(luma).sum::<f32>() / n + 0.5).floor();
            blend(f, &vec![mean; f.data.len()], k)
        }
        Op::Brightness(k) => blend(f, &vec![0.0; f.data.len()], k),
        Op::Sharpness(k) => {
            // PIL SMOOTH filter [[1,1,1],[1,5,1],[1,1,1]]/13; border pixels unchanged.
            let (w, h) = (f.width, f.height);
            let mut smooth: Vec<f32> = f.data.iter().map(|&v| v as f32).collect();
            for y in 1..h.saturating_sub(1) {
                for x in 1..w.saturating_sub(1) {
                    for c in 0..3 {
                        let mut acc = 0f32;
                        for dy in 0..3 {
                            for dx in 0..3 {
                                let wgt = if dx == 1 && dy == 1 { 5.0 } else { 1.0 };
                                acc += wgt * f.data[((y + dy - 1) * w + x + dx - 1) * 3 + c] as f32;
                            }
                        }
                        smooth[(y * w + x) * 3 + c] = (acc / 13.0).round();
                    }
                }
            }
            blend(f, &smooth, k)
        }
        Op::Rotate(deg) => {
            // Rotate about the centre (PIL rotate: counter-clockwise for positive angles).
            let (cx, cy) = (w / 2.0, h / 2.0);
            let a = -deg.to_radians();
            let (cos, sin) = (a.cos(), a.sin());
            let m = [cos, sin, 0.0, -sin, cos, 0.0];
            let c = cx - m[0] * cx - m[1] * cy;
            let f2 = cy - m[3] * cx - m[4] * cy;
            affine(f, [m[0], m[1], c, m[3], m[4], f2])
        }
        Op::ShearX(s) => affine(f, [1.0, s, 0.0, 0.0, 1.0, 0.0]),
        Op::ShearY(s) => affine(f, [1.0, 0.0, 0.0, s, 1.0, 0.0]),
        Op::TranslateX(p) => affine(f, [1.0, 0.0, p * w, 0.0, 1.0, 0.0]),
        Op::TranslateY(p) => affine(f, [1.0, 0.0, 0.0, 0.0, 1.0, p * h]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn noise_frame(seed: u64) -> Frame {
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

    #[test]
    fn every_frame_of_a_clip_gets_the_same_ops() {
        let f = noise_frame(2);
        let clip = vec![f.clone(), f.clone(), f];
        for seed in 0..20 {
            let out = rand_augment(
                clip.clone(),
                &RandAugmentConfig::default(),
                &mut rand::rngs::StdRng::seed_from_u64(seed),
            );
            assert!(out.windows(2).all(|w| w[0] == w[1]));
        }
    }
}
