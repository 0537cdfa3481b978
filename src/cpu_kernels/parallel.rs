//! Element-wise loops split over the rayon pool burn-flex also uses, compiled twice: for
//! the baseline x86-64 target and for AVX2 + FMA, chosen at run time by what the CPU has.
//! The matrix products dispatch inside the gemm crate, built with its `x86-v4` kernels, so
//! they use AVX-512 where the CPU has it (one binary for Zen 4 and for Intel Xeons). These
//! loops stay at AVX2: an AVX-512 copy of all of them measured 2–9% slower fine-tuning steps
//! on an Intel Xeon (2 threads, demo and small presets), where wide vectors lower the clock
//! and the loops are bound by memory, not arithmetic. GELU is the exception
//! (`wide_simd_kernel!`): its erf and exp per element bind it to arithmetic, and its AVX-512
//! copy made demo inference 12% faster and training steps 5% faster on that Xeon.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// Elements per task: below two tasks' worth the loop runs on the calling thread.
pub const CHUNK: usize = 16 * 1024;

/// A new buffer `out[i] = f(a[i])` for a per-chunk kernel `f` that writes all of its `out`
/// (not zero-filled first: that would be a serial pass before the parallel one).
pub fn map1(a: &[f32], kernel: fn(&[f32], &mut [MaybeUninit<f32>])) -> Vec<f32> {
    filled(a.len(), |out| {
        if a.len() < 2 * CHUNK {
            return kernel(a, out);
        }
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK))
            .for_each(|(out, a)| kernel(a, out));
    })
}

/// A new buffer `out[i] = f(a[i], b[i])` for a per-chunk kernel `f` that writes all of its
/// `out`.
pub fn map2(a: &[f32], b: &[f32], kernel: fn(&[f32], &[f32], &mut [MaybeUninit<f32>])) -> Vec<f32> {
    assert_eq!(a.len(), b.len(), "element-wise kernel: operand lengths");
    filled(a.len(), |out| {
        if a.len() < 2 * CHUNK {
            return kernel(a, b, out);
        }
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(out, (a, b))| kernel(a, b, out));
    })
}

/// A buffer of `len` values written by `fill`, which the element-wise kernels' contract
/// (every output written) makes whole.
fn filled(len: usize, fill: impl FnOnce(&mut [MaybeUninit<f32>])) -> Vec<f32> {
    let mut buffer = Vec::with_capacity(len);
    fill(&mut buffer.spare_capacity_mut()[..len]);
    // SAFETY: `map1`/`map2` kernels write every element of the chunk they are given, and the
    // chunks cover the buffer.
    unsafe { buffer.set_len(len) };
    buffer
}

/// True when the gemm crate takes its AVX-512 kernels (it checks for AVX-512 F).
#[cfg(target_arch = "x86_64")]
pub fn avx512_usable() -> bool {
    std::is_x86_feature_detected!("avx512f")
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

/// The vector extensions the matrix products and the fused kernels run with on this CPU, for
/// benchmark output.
pub fn dispatch_level() -> &'static str {
    match (avx512_usable(), avx2_usable()) {
        (true, true) => "gemm and GELU AVX-512, other kernels AVX2+FMA",
        (true, false) => "gemm AVX-512, kernels baseline x86-64",
        (false, true) => "gemm and kernels AVX2+FMA",
        (false, false) => "baseline x86-64",
    }
}

/// Defines `fn $name(args)` whose body is compiled for the baseline target and for AVX2 +
/// FMA; the AVX2 copy runs when the CPU has both.
macro_rules! simd_kernel {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    body($($arg),*)
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

/// As `simd_kernel!`, with a third copy for AVX-512 (F) taken first where the CPU has it: for
/// loops bound by arithmetic rather than memory (GELU's erf and exp per element), where the
/// wider vectors pay for the lower clock.
macro_rules! wide_simd_kernel {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn wide_body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn avx512($($arg: $ty),*) {
                    wide_body($($arg),*)
                }
                if $crate::cpu_kernels::parallel::avx512_usable()
                    && $crate::cpu_kernels::parallel::avx2_usable()
                {
                    // SAFETY: the CPU has the features `avx512` is compiled for.
                    return unsafe { avx512($($arg),*) };
                }
            }
            $crate::cpu_kernels::parallel::simd_kernel! {
                fn narrow($($arg: $ty),*) {
                    wide_body($($arg),*)
                }
            }
            narrow($($arg),*)
        }
    };
}
pub(crate) use wide_simd_kernel;
