//! PIL's affine warp (`Image.transform(size, AFFINE, m, BILINEAR, fillcolor)`, what timm's
//! rotate, shear and translate call): output pixel (x, y) reads input
//! (a x + b y + c, d x + e y + f), bilinear, a fill colour outside. Where each output pixel
//! reads is the same for every frame of a clip, so it is computed once per clip.
//!
//! The arithmetic is PIL's, in f64 (f32 rounds ~2% of values apart). On CPUs with AVX2 four
//! pixels are interpolated at once with the same operations in the same order (no fused
//! multiply-add), so both paths give the same bytes.

use super::frame::Frame;
use super::level::to_level_f64;

/// Fill colour of geometric ops: the ImageNet mean in 0–255 (timm `img_mean`).
pub(super) const FILL: [u8; 3] = [124, 116, 104];

/// `at` of an output pixel whose source lies outside the frame.
const OUTSIDE: u32 = u32::MAX;

/// Where every output pixel reads, one array per quantity: the byte offset of its top-left
/// source pixel (or [`OUTSIDE`]), the steps to the right and lower neighbours (0 on the last
/// column or row), and the bilinear weights.
#[derive(Debug, Clone)]
pub(super) struct Warp {
    size: (usize, usize),
    at: Vec<u32>,
    right: Vec<u32>,
    down: Vec<u32>,
    ax: Vec<f64>,
    ay: Vec<f64>,
}

impl Warp {
    /// The warp of `w × h` frames by the affine map `m` (PIL's coefficient order).
    pub(super) fn new(w: usize, h: usize, m: [f64; 6]) -> Self {
        let n = w * h;
        let mut warp = Self {
            size: (w, h),
            at: Vec::with_capacity(n),
            right: Vec::with_capacity(n),
            down: Vec::with_capacity(n),
            ax: Vec::with_capacity(n),
            ay: Vec::with_capacity(n),
        };
        let (wf, hf) = (w as f64 - 0.5, h as f64 - 0.5);
        let (xmax, ymax) = ((w - 1) as f64, (h - 1) as f64);
        for y in 0..h {
            let yf = y as f64 + 0.5;
            for x in 0..w {
                let xf = x as f64 + 0.5;
                let sx = m[0] * xf + m[1] * yf + m[2] - 0.5;
                let sy = m[3] * xf + m[4] * yf + m[5] - 0.5;
                if sx < -0.5 || sy < -0.5 || sx > wf || sy > hf {
                    warp.push(OUTSIDE, 0, 0, 0.0, 0.0);
                    continue;
                }
                // sx, sy ≥ −0.5 here: truncating sx + 1 is floor(sx) + 1 (libm's floor is a
                // call on baseline x86-64).
                let x0 = ((sx + 1.0) as usize).saturating_sub(1).min(xmax as usize);
                let y0 = ((sy + 1.0) as usize).saturating_sub(1).min(ymax as usize);
                let x1 = (x0 + 1).min(w - 1);
                let y1 = (y0 + 1).min(h - 1);
                warp.push(
                    ((y0 * w + x0) * 3) as u32,
                    ((x1 - x0) * 3) as u32,
                    ((y1 - y0) * w * 3) as u32,
                    (sx - x0 as f64).clamp(0.0, 1.0),
                    (sy - y0 as f64).clamp(0.0, 1.0),
                );
            }
        }
        warp
    }

    fn push(&mut self, at: u32, right: u32, down: u32, ax: f64, ay: f64) {
        self.at.push(at);
        self.right.push(right);
        self.down.push(down);
        self.ax.push(ax);
        self.ay.push(ay);
    }

    /// Warps `f` in place; `scratch` holds the source copy between calls.
    pub(super) fn apply(&self, f: &mut Frame, scratch: &mut Vec<u8>) {
        assert_eq!(
            (f.width, f.height),
            self.size,
            "frames of one clip differ in size"
        );
        scratch.clear();
        scratch.extend_from_slice(&f.data);
        // One byte of slack: the vector path reads pixels as 4-byte words.
        scratch.push(0);
        #[cfg(target_arch = "x86_64")]
        if crate::cpu_kernels::parallel::avx2_usable() {
            // SAFETY: the CPU has AVX2; `scratch` has the slack byte the word reads need.
            let done = unsafe { self.apply_avx2(scratch, &mut f.data) };
            self.apply_scalar(scratch, &mut f.data, done);
            return;
        }
        self.apply_scalar(scratch, &mut f.data, 0);
    }

    /// Output pixels `from..` one at a time.
    fn apply_scalar(&self, src: &[u8], out: &mut [u8], from: usize) {
        for (i, dst) in out.chunks_exact_mut(3).enumerate().skip(from) {
            if self.at[i] == OUTSIDE {
                dst.copy_from_slice(&FILL);
                continue;
            }
            let a = self.at[i] as usize;
            let (r, d) = (self.right[i] as usize, self.down[i] as usize);
            let (ax, ay) = (self.ax[i], self.ay[i]);
            for c in 0..3 {
                let p = |o: usize| src[o + c] as f64;
                let v = (1.0 - ay) * ((1.0 - ax) * p(a) + ax * p(a + r))
                    + ay * ((1.0 - ax) * p(a + d) + ax * p(a + d + r));
                dst[c] = to_level_f64(v);
            }
        }
    }

    /// Output pixels four at a time; returns how many were done (a multiple of four).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn apply_avx2(&self, src: &[u8], out: &mut [u8]) -> usize {
        use std::arch::x86_64::*;
        let n = self.at.len();
        let blocks = n / 4;
        let word = |o: usize| -> i32 {
            debug_assert!(o + 4 <= src.len());
            // SAFETY: o + 4 ≤ src.len(): every offset is a pixel's, plus the slack byte.
            unsafe { (src.as_ptr().add(o) as *const u32).read_unaligned() as i32 }
        };
        let one = _mm256_set1_pd(1.0);
        let zero = _mm256_setzero_pd();
        let top = _mm256_set1_pd(255.0);
        let half = _mm256_set1_pd(0.5);
        let byte = _mm_set1_epi32(0xFF);
        for b in 0..blocks {
            let i = b * 4;
            // The four corners of four pixels, as RGBx words; outside pixels read pixel 0.
            let mut corners = [[0i32; 4]; 4];
            for (lane, t) in (i..i + 4).enumerate() {
                if self.at[t] == OUTSIDE {
                    continue;
                }
                let a = self.at[t] as usize;
                let (r, d) = (self.right[t] as usize, self.down[t] as usize);
                corners[0][lane] = word(a);
                corners[1][lane] = word(a + r);
                corners[2][lane] = word(a + d);
                corners[3][lane] = word(a + d + r);
            }
            // SAFETY: i + 4 ≤ n, the length of both weight arrays.
            let ax = unsafe { _mm256_loadu_pd(self.ax.as_ptr().add(i)) };
            let ay = unsafe { _mm256_loadu_pd(self.ay.as_ptr().add(i)) };
            let (ox, oy) = (_mm256_sub_pd(one, ax), _mm256_sub_pd(one, ay));
            // SAFETY: each row of `corners` is four i32.
            let words = corners.map(|c| unsafe { _mm_loadu_si128(c.as_ptr() as *const __m128i) });
            let mut packed = _mm_setzero_si128();
            for c in 0..3 {
                let shift = _mm_cvtsi32_si128(8 * c);
                let level =
                    |w: __m128i| _mm256_cvtepi32_pd(_mm_and_si128(_mm_srl_epi32(w, shift), byte));
                let (p00, p01, p10, p11) = (
                    level(words[0]),
                    level(words[1]),
                    level(words[2]),
                    level(words[3]),
                );
                // (1 − ay)((1 − ax) p00 + ax p01) + ay((1 − ax) p10 + ax p11), as the scalar path.
                let upper = _mm256_add_pd(_mm256_mul_pd(ox, p00), _mm256_mul_pd(ax, p01));
                let lower = _mm256_add_pd(_mm256_mul_pd(ox, p10), _mm256_mul_pd(ax, p11));
                let v = _mm256_add_pd(_mm256_mul_pd(oy, upper), _mm256_mul_pd(ay, lower));
                let v = _mm256_add_pd(_mm256_min_pd(_mm256_max_pd(v, zero), top), half);
                let v = _mm256_cvttpd_epi32(v);
                packed = _mm_or_si128(packed, _mm_sll_epi32(v, shift));
            }
            let mut pixels = [0u32; 4];
            // SAFETY: `pixels` is four u32.
            unsafe { _mm_storeu_si128(pixels.as_mut_ptr() as *mut __m128i, packed) };
            for (lane, px) in pixels.iter().enumerate() {
                let t = i + lane;
                let dst = &mut out[t * 3..t * 3 + 3];
                if self.at[t] == OUTSIDE {
                    dst.copy_from_slice(&FILL);
                } else {
                    dst.copy_from_slice(&px.to_le_bytes()[..3]);
                }
            }
        }
        blocks * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_vector_path_gives_the_scalar_paths_bytes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut filled = 0;
        for (w, h) in [(37, 29), (64, 48), (5, 3), (160, 160)] {
            let data: Vec<u8> = (0..w * h * 3).map(|_| rng.random()).collect();
            for _ in 0..6 {
                let deg: f64 = rng.random_range(-30.0..30.0);
                let (s, c) = deg.to_radians().sin_cos();
                let m = [
                    c,
                    s + rng.random_range(-0.3..0.3),
                    rng.random_range(-0.3..0.3) * w as f64,
                    -s,
                    c,
                    rng.random_range(-0.3..0.3) * h as f64,
                ];
                let warp = Warp::new(w, h, m);
                let mut fast = Frame::new(w, h, data.clone());
                warp.apply(&mut fast, &mut Vec::new());
                let mut src = data.clone();
                src.push(0);
                let mut slow = data.clone();
                warp.apply_scalar(&src, &mut slow, 0);
                assert_eq!(fast.data, slow, "{w}x{h} {m:?}");
                filled += slow.chunks_exact(3).any(|p| p == FILL) as usize;
            }
        }
        assert!(
            filled > 10,
            "most warps move some pixels outside: {filled} of 24"
        );
    }
}
