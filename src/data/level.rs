//! Filtered values back to RGB8 levels, the one rounding rule of every resampling op.

/// A filtered value back to a pixel level: clamped to 0–255, rounded half away from zero.
///
/// `f32::round` is a libm call on baseline x86-64; after the clamp the value is non-negative,
/// so adding ½ and truncating rounds the same way and vectorises.
#[inline(always)]
pub fn to_level(v: f32) -> u8 {
    (v.clamp(0.0, 255.0) + 0.5) as u8
}

/// [`to_level`] for values computed in f64 (PIL's affine warp).
#[inline(always)]
pub fn to_level_f64(v: f64) -> u8 {
    (v.clamp(0.0, 255.0) + 0.5) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_clamp_and_round_half_away_from_zero() {
        for (v, want) in [
            (-3.0, 0),
            (0.49, 0),
            (0.5, 1),
            (1.5, 2),
            (254.5, 255),
            (300.0, 255),
        ] {
            assert_eq!(to_level(v), want, "{v}");
            assert_eq!(to_level_f64(v as f64), want, "{v}");
            assert_eq!(to_level(v), v.clamp(0.0, 255.0).round() as u8);
        }
    }
}
