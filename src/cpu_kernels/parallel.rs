//! Element-wise loops split over the rayon pool burn-flex also uses, compiled three times:
//! for the baseline x86-64 target, for AVX2 + FMA and for AVX-512, chosen at run time by what
//! the CPU has (one binary for Zen 4 and for Intel Xeons; the matrix products dispatch the
//! same way inside the gemm crate, built with its `x86-v4` kernels).

use rayon::prelude::*;

/// Elements per task: below two tasks' worth the loop runs on the calling thread.
pub const CHUNK: usize = 16 * 1024;

/// `out[i] = f(a[i])` for a per-chunk kernel `f`.
pub fn map1(a: &[f32], out: &mut [f32], kernel: fn(&[f32], &mut [f32])) {
    if a.len() < 2 * CHUNK {
        return kernel(a, out);
    }
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .for_each(|(out, a)| kernel(a, out));
}

/// `out[i] = f(a[i], b[i])` for a per-chunk kernel `f`.
pub fn map2(a: &[f32], b: &[f32], out: &mut [f32], kernel: fn(&[f32], &[f32], &mut [f32])) {
    if a.len() < 2 * CHUNK {
        return kernel(a, b, out);
    }
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
        .for_each(|(out, (a, b))| kernel(a, b, out));
}

/// True when the CPU has the AVX-512 subsets the kernels' AVX-512 copies are compiled for
/// (foundation, vector length, byte/word, double/quad word: every AVX-512 CPU since Skylake-SP
/// and Zen 4).
#[cfg(target_arch = "x86_64")]
pub fn avx512_usable() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512dq")
}

#[cfg(not(target_arch = "x86_64"))]
pub fn avx512_usable() -> bool {
    false
}

/// True when the CPU has AVX2 and FMA.
pub fn avx2_usable() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The vector extension the CPU kernels and the gemm run with on this CPU, for benchmark
/// output.
pub fn dispatch_level() -> &'static str {
    if avx512_usable() {
        "AVX-512"
    } else if avx2_usable() {
        "AVX2+FMA"
    } else {
        "baseline"
    }
}

/// Defines `fn $name(args)` whose body is compiled for the baseline target, for AVX2 + FMA
/// and for AVX-512; the widest copy the CPU runs is taken.
macro_rules! simd_kernel {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                fn avx512($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if $crate::cpu_kernels::parallel::avx512_usable() {
                    // SAFETY: the CPU has the features `avx512` is compiled for.
                    return unsafe { avx512($($arg),*) };
                }
                if $crate::cpu_kernels::parallel::avx2_usable() {
                    // SAFETY: the CPU has the features `avx2` is compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use simd_kernel;
