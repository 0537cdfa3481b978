//! Area resampling of RGB8 regions into the networks' normalised planar input.
//!
//! facenet-pytorch resizes both the image pyramid and the candidate crops with
//! `interpolate(mode="area")`, i.e. adaptive average pooling: output cell `i` of `out`
//! averages input cells `floor(i·in/out) .. ceil((i+1)·in/out)`. Windows are rectangles,
//! so the average is computed separably (columns, then rows).

use crate::data::frame::Frame;

/// MTCNN's input normalisation, `(x − 127.5) · 0.0078125` (i.e. /128).
pub fn normalise(v: f32) -> f32 {
    (v - 127.5) * 0.0078125
}

/// Adaptive-pooling windows `[start, end)` for `out` cells over `len` inputs (PyTorch's
/// integer formulas).
fn windows(len: usize, out: usize) -> Vec<(usize, usize)> {
    (0..out)
        .map(|i| (i * len / out, ((i + 1) * len).div_ceil(out)))
        .collect()
}

/// Area-resamples the region `x0..x0+w, y0..y0+h` of `frame` to `out_w × out_h` and writes
/// it normalised, channel-major (`[3, out_h, out_w]`), into `dst`.
#[allow(clippy::too_many_arguments)]
pub fn area_resize_into(
    frame: &Frame,
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
    out_w: usize,
    out_h: usize,
    dst: &mut [f32],
) {
    assert!(x0 + w <= frame.width && y0 + h <= frame.height && w > 0 && h > 0);
    assert_eq!(dst.len(), 3 * out_w * out_h);
    let cols = windows(w, out_w);
    let rows = windows(h, out_h);
    // Horizontal pass: per source row, per output column, the three channel sums.
    let mut row_sums = vec![0f32; h * out_w * 3];
    for y in 0..h {
        let src =
            &frame.data[((y0 + y) * frame.width + x0) * 3..((y0 + y) * frame.width + x0 + w) * 3];
        let out = &mut row_sums[y * out_w * 3..(y + 1) * out_w * 3];
        for (ox, &(s, e)) in cols.iter().enumerate() {
            let mut acc = [0f32; 3];
            for px in src[s * 3..e * 3].chunks_exact(3) {
                acc[0] += px[0] as f32;
                acc[1] += px[1] as f32;
                acc[2] += px[2] as f32;
            }
            out[ox * 3..ox * 3 + 3].copy_from_slice(&acc);
        }
    }
    let plane = out_w * out_h;
    for (oy, &(rs, re)) in rows.iter().enumerate() {
        for (ox, &(cs, ce)) in cols.iter().enumerate() {
            let count = ((re - rs) * (ce - cs)) as f32;
            let mut acc = [0f32; 3];
            for y in rs..re {
                let p = (y * out_w + ox) * 3;
                acc[0] += row_sums[p];
                acc[1] += row_sums[p + 1];
                acc[2] += row_sums[p + 2];
            }
            for c in 0..3 {
                dst[c * plane + oy * out_w + ox] = normalise(acc[c] / count);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_adaptive_pooling() {
        // 5 → 3: [0,2), [1,4), [3,5) (PyTorch's overlapping windows).
        assert_eq!(windows(5, 3), vec![(0, 2), (1, 4), (3, 5)]);
        // Upsampling 2 → 4 repeats each input.
        assert_eq!(windows(2, 4), vec![(0, 1), (0, 1), (1, 2), (1, 2)]);
    }

    #[test]
    fn halving_averages_two_by_two_blocks_per_channel() {
        let data = vec![
            0, 10, 255, 100, 10, 255, //
            0, 10, 255, 100, 10, 255,
        ];
        let f = Frame::new(2, 2, data);
        let mut out = vec![0f32; 3];
        area_resize_into(&f, 0, 0, 2, 2, 1, 1, &mut out);
        assert_eq!(
            out,
            vec![normalise(50.0), normalise(10.0), normalise(255.0)]
        );
    }

    #[test]
    fn region_offset_is_respected() {
        let mut f = Frame::filled(4, 3, [0, 0, 0]);
        let i = (2 * 4 + 3) * 3;
        f.data[i] = 200;
        let mut out = vec![0f32; 3];
        area_resize_into(&f, 3, 2, 1, 1, 1, 1, &mut out);
        assert_eq!(out[0], normalise(200.0));
    }
}
