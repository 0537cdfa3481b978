//! Branch-free f32 math that the compiler vectorises (libm's `expf`/`erff` are calls per
//! element and block vectorisation).

/// eˣ to about 2 ulp: x = n·ln 2 + r with |r| ≤ ln 2 / 2, eʳ by Cephes' `expf` polynomial,
/// 2ⁿ put into the exponent bits. Clamped to [−87.3, 88]: no subnormal or infinite results.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without SSE4.1's `round`.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    er * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// Φ(x) and φ(x), the standard normal CDF and density. Φ uses Abramowitz & Stegun 7.1.26
/// for erfc (absolute error ≤ 1.5·10⁻⁷) on |x|, sharing one exp with φ.
#[inline(always)]
pub fn normal_cdf_pdf(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_7,
        -1.453_152_1,
        1.061_405_4,
    ];
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let gauss = exp(-0.5 * x * x);
    let lower_tail = 0.5 * poly * gauss; // Φ(−|x|)
    let cdf = if x >= 0.0 {
        1.0 - lower_tail
    } else {
        lower_tail
    };
    (cdf, gauss * 0.398_942_3) // 1/√(2π)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_a_few_ulp_of_std() {
        for i in -8000..=8000 {
            let x = i as f32 * 0.01;
            let (ours, std) = (exp(x), x.exp());
            assert!(
                (ours - std).abs() <= 4.0 * f32::EPSILON * std,
                "exp({x}) = {ours}, std {std}"
            );
        }
    }

    #[test]
    fn normal_cdf_and_pdf_match_f64_reference() {
        for i in -800..=800 {
            let x = i as f32 * 0.01;
            let (cdf, pdf) = normal_cdf_pdf(x);
            let xd = x as f64;
            let pdf_ref = (-0.5 * xd * xd).exp() / (2.0 * std::f64::consts::PI).sqrt();
            // Φ by the complementary error function of f64 via a converging series is
            // overkill; check the identities that pin it down instead: symmetry and φ = Φ'.
            let (cdf_neg, _) = normal_cdf_pdf(-x);
            assert!((cdf + cdf_neg - 1.0).abs() < 1e-6, "Φ({x}) + Φ(−{x}) ≠ 1");
            assert!((pdf as f64 - pdf_ref).abs() < 1e-7, "φ({x})");
            let h = 1e-3f64;
            let (up, _) = normal_cdf_pdf((xd + h) as f32);
            let (down, _) = normal_cdf_pdf((xd - h) as f32);
            let slope = (up as f64 - down as f64) / (2.0 * h);
            assert!(
                (slope - pdf_ref).abs() < 2e-4,
                "Φ'({x}) = {slope}, φ = {pdf_ref}"
            );
        }
        assert!((normal_cdf_pdf(0.0).0 - 0.5).abs() < 2e-7);
        assert!((normal_cdf_pdf(1.0).0 - 0.841_344_7).abs() < 2e-7);
        assert!((normal_cdf_pdf(-2.0).0 - 0.022_750_132).abs() < 2e-7);
    }
}
