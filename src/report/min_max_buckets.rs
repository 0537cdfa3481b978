//! Dense series reduced for drawing without losing their spikes.

/// Keeps the lowest and the highest point of each of `max_points / 2` equal runs of points,
/// in x order: a line through them covers the extremes a full-resolution line would (the
/// Monitor's charts and the exported curves).
pub fn min_max_buckets(pts: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if pts.len() <= max_points || max_points < 4 {
        return pts.to_vec();
    }
    let buckets = max_points / 2;
    let size = pts.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(max_points + 2);
    for chunk in pts.chunks(size) {
        let (mut lo, mut hi) = (chunk[0], chunk[0]);
        for &p in chunk {
            if p.1 < lo.1 {
                lo = p;
            }
            if p.1 > hi.1 {
                hi = p;
            }
        }
        if lo.0 <= hi.0 {
            out.push(lo);
            out.push(hi);
        } else {
            out.push(hi);
            out.push(lo);
        }
    }
    out
}
