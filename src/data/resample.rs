//! PIL's antialiased bilinear resize (`Image.resize(..., BILINEAR)`, what torchvision's
//! Resize uses on images) as a plan: the filter taps of a source region and an output size,
//! computed once and applied to every frame of a clip.
//!
//! Two separable passes: horizontal into f32 rows (only the source rows the vertical pass
//! reads), then vertical, accumulating whole rows so the compiler vectorises it. Taps are
//! padded with zero weights to one width per axis; adding `0 · x` leaves every sum as it was.

use super::level::to_level;

/// The taps of one axis: output `i` reads `starts[i] .. starts[i] + taps` with
/// `weights[i * taps ..]`.
#[derive(Debug, Clone)]
struct Taps {
    starts: Vec<usize>,
    taps: usize,
    weights: Vec<f32>,
}

impl Taps {
    /// PIL's triangle filter, support 1 widened by the shrink factor, sampling at pixel centres.
    fn new(start: f32, len: f32, size: usize, out: usize) -> Self {
        let scale = len / out as f32;
        let support = scale.max(1.0);
        let centre = |i: usize| start + (i as f32 + 0.5) * scale;
        // Each output's source window `lo..hi`; the padded width is the widest window.
        let windows: Vec<(usize, usize)> = (0..out)
            .map(|i| {
                let c = centre(i);
                let lo = ((c - support).floor().max(0.0)) as usize;
                let hi = ((c + support).ceil() as usize).min(size);
                (lo.min(hi.saturating_sub(1)), hi)
            })
            .collect();
        let taps = windows
            .iter()
            .map(|(lo, hi)| hi - lo)
            .max()
            .unwrap_or(1)
            .min(size);
        let mut starts = Vec::with_capacity(out);
        let mut weights = vec![0f32; out * taps];
        for (i, &(lo, hi)) in windows.iter().enumerate() {
            let c = centre(i);
            // Shift the window left where it would run past the end; the extra taps weigh 0.
            let s = lo.min(size - taps);
            starts.push(s);
            let row = &mut weights[i * taps + (lo - s)..i * taps + (lo - s) + (hi - lo)];
            for (w, j) in row.iter_mut().zip(lo..hi) {
                let d = (j as f32 + 0.5 - c) / support;
                *w = (1.0 - d.abs()).max(0.0);
            }
            let sum: f32 = row.iter().sum();
            if sum > 0.0 {
                row.iter_mut().for_each(|w| *w /= sum);
            } else {
                // Centre outside the image: take the nearest edge pixel.
                let nearest = (c.floor().max(0.0) as usize).clamp(lo, hi - 1) - lo;
                row[nearest] = 1.0;
            }
        }
        Self {
            starts,
            taps,
            weights,
        }
    }

    fn weights(&self, i: usize) -> &[f32] {
        &self.weights[i * self.taps..(i + 1) * self.taps]
    }

    /// The weights tap-major (`[taps][out]`), for the vector path, which handles eight
    /// outputs at once.
    fn by_tap(&self) -> Vec<f32> {
        let out = self.starts.len();
        let mut t = vec![0f32; self.taps * out];
        for i in 0..out {
            for (k, &w) in self.weights(i).iter().enumerate() {
                t[k * out + i] = w;
            }
        }
        t
    }
}

/// A resize of the region `[x0, x0 + w) × [y0, y0 + h)` of `src_w × src_h` frames to
/// `out_w × out_h`.
#[derive(Debug, Clone)]
pub struct ResizePlan {
    src: (usize, usize),
    out: (usize, usize),
    xs: Taps,
    /// `xs`'s weights tap-major.
    xs_by_tap: Vec<f32>,
    ys: Taps,
    identity: bool,
}

impl ResizePlan {
    pub fn new(
        src_w: usize,
        src_h: usize,
        region: (f32, f32, f32, f32),
        out_w: usize,
        out_h: usize,
    ) -> Self {
        let (x0, y0, w, h) = region;
        let identity = x0 == 0.0
            && y0 == 0.0
            && w as usize == src_w
            && h as usize == src_h
            && out_w == src_w
            && out_h == src_h;
        let xs = Taps::new(x0, w, src_w, out_w);
        Self {
            src: (src_w, src_h),
            out: (out_w, out_h),
            xs_by_tap: xs.by_tap(),
            xs,
            ys: Taps::new(y0, h, src_h, out_h),
            identity,
        }
    }

    /// A plan for resizing whole `src_w × src_h` frames to `out_w × out_h`.
    pub fn whole(src_w: usize, src_h: usize, out_w: usize, out_h: usize) -> Self {
        Self::new(
            src_w,
            src_h,
            (0.0, 0.0, src_w as f32, src_h as f32),
            out_w,
            out_h,
        )
    }

    /// Output width and height.
    pub fn out_size(&self) -> (usize, usize) {
        self.out
    }

    /// Source width and height the plan was made for.
    pub fn src_size(&self) -> (usize, usize) {
        self.src
    }

    /// Resizes one RGB8 image of the size the plan was made for.
    pub fn apply(&self, rgb: &[u8]) -> Vec<u8> {
        self.apply_with(rgb, crate::cpu_kernels::parallel::avx2_usable())
    }

    /// [`Self::apply`], with the AVX2 horizontal pass or without (`vector`, on CPUs with AVX2).
    fn apply_with(&self, rgb: &[u8], vector: bool) -> Vec<u8> {
        let (src_w, src_h) = self.src;
        assert_eq!(
            rgb.len(),
            src_w * src_h * 3,
            "image size differs from the resize plan's"
        );
        if self.identity {
            return rgb.to_vec();
        }
        let (out_w, out_h) = self.out;
        let stride = out_w * 3;
        let row_lo = self.ys.starts.iter().copied().min().unwrap_or(0);
        let row_hi = self
            .ys
            .starts
            .iter()
            .map(|s| s + self.ys.taps)
            .max()
            .unwrap_or(0);
        let mut tmp = vec![0f32; (row_hi - row_lo) * stride];
        // A source row plus one byte of slack: the vector path reads pixels as 4-byte words.
        let mut row = vec![0u8; src_w * 3 + 1];
        for y in row_lo..row_hi {
            row[..src_w * 3].copy_from_slice(&rgb[y * src_w * 3..(y + 1) * src_w * 3]);
            let dst = &mut tmp[(y - row_lo) * stride..(y - row_lo + 1) * stride];
            let mut done = 0;
            #[cfg(target_arch = "x86_64")]
            if vector {
                // SAFETY: `vector` only where the CPU has AVX2; `row` has the slack byte.
                done = unsafe { self.horizontal_avx2(&row, dst) };
            }
            self.horizontal(&row, dst, done);
        }
        let mut data = vec![0u8; out_h * stride];
        let mut acc = vec![0f32; stride];
        for (oy, out) in data.chunks_exact_mut(stride).enumerate() {
            acc.iter_mut().for_each(|a| *a = 0.0);
            let start = self.ys.starts[oy] - row_lo;
            for (k, &wgt) in self.ys.weights(oy).iter().enumerate() {
                let row = &tmp[(start + k) * stride..(start + k + 1) * stride];
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += wgt * v;
                }
            }
            for (o, &a) in out.iter_mut().zip(&acc) {
                *o = to_level(a);
            }
        }
        data
    }

    /// Horizontal pass of one source row into `dst` (f32 RGB), outputs `from..`.
    fn horizontal(&self, src: &[u8], dst: &mut [f32], from: usize) {
        for (ox, px) in dst.chunks_exact_mut(3).enumerate().skip(from) {
            let start = self.xs.starts[ox] * 3;
            let mut acc = [0f32; 3];
            for (k, &wgt) in self.xs.weights(ox).iter().enumerate() {
                let p = start + k * 3;
                acc[0] += wgt * src[p] as f32;
                acc[1] += wgt * src[p + 1] as f32;
                acc[2] += wgt * src[p + 2] as f32;
            }
            px.copy_from_slice(&acc);
        }
    }

    /// [`Self::horizontal`] eight outputs at a time, with the same sums in the same order
    /// (no fused multiply-add), so the same values; returns how many outputs were done.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn horizontal_avx2(&self, src: &[u8], dst: &mut [f32]) -> usize {
        use std::arch::x86_64::*;
        let out = self.xs.starts.len();
        let blocks = out / 8;
        let byte = _mm256_set1_epi32(0xFF);
        for b in 0..blocks {
            let o = b * 8;
            let starts: [i32; 8] = std::array::from_fn(|l| (self.xs.starts[o + l] * 3) as i32);
            // SAFETY: `starts` is eight i32.
            let base = unsafe { _mm256_loadu_si256(starts.as_ptr() as *const __m256i) };
            let mut acc = [_mm256_setzero_ps(); 3];
            for k in 0..self.xs.taps {
                // SAFETY: k * out + o + 8 ≤ taps * out; every word read starts at a pixel of
                // the row (starts + taps ≤ width) and `src` has one byte of slack.
                let (w, words) = unsafe {
                    (
                        _mm256_loadu_ps(self.xs_by_tap.as_ptr().add(k * out + o)),
                        _mm256_i32gather_epi32::<1>(
                            src.as_ptr() as *const i32,
                            _mm256_add_epi32(base, _mm256_set1_epi32(3 * k as i32)),
                        ),
                    )
                };
                let r = _mm256_cvtepi32_ps(_mm256_and_si256(words, byte));
                let g = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32::<8>(words), byte));
                let bl = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32::<16>(words), byte));
                acc[0] = _mm256_add_ps(acc[0], _mm256_mul_ps(w, r));
                acc[1] = _mm256_add_ps(acc[1], _mm256_mul_ps(w, g));
                acc[2] = _mm256_add_ps(acc[2], _mm256_mul_ps(w, bl));
            }
            let mut lanes = [[0f32; 8]; 3];
            for c in 0..3 {
                // SAFETY: `lanes[c]` is eight f32.
                unsafe { _mm256_storeu_ps(lanes[c].as_mut_ptr(), acc[c]) };
            }
            for l in 0..8 {
                let px = &mut dst[(o + l) * 3..(o + l) * 3 + 3];
                px.copy_from_slice(&[lanes[0][l], lanes[1][l], lanes[2][l]]);
            }
        }
        blocks * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_vector_pass_gives_the_scalar_passs_bytes() {
        if !crate::cpu_kernels::parallel::avx2_usable() {
            return;
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for (w, h) in [(256, 256), (37, 29), (9, 200)] {
            let rgb: Vec<u8> = (0..w * h * 3).map(|_| rng.random()).collect();
            for _ in 0..8 {
                let (cw, ch) = (
                    rng.random_range(4.0..w as f32),
                    rng.random_range(4.0..h as f32),
                );
                let (x0, y0) = (
                    rng.random_range(0.0..w as f32 - cw),
                    rng.random_range(0.0..h as f32 - ch),
                );
                let (ow, oh) = (rng.random_range(1..200), rng.random_range(1..200));
                let plan = ResizePlan::new(w, h, (x0, y0, cw, ch), ow, oh);
                assert_eq!(
                    plan.apply_with(&rgb, true),
                    plan.apply_with(&rgb, false),
                    "{w}x{h} → {ow}x{oh}"
                );
            }
        }
    }
}
