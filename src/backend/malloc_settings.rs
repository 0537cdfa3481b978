//! glibc malloc settings for the CPU model's buffers.
//!
//! By default glibc serves blocks above a moving threshold (128 KiB at start) with fresh
//! `mmap`s and hands freed memory at the top of the heap back to the kernel, so every
//! training step faults in and zeroes its activations' pages again (`clear_page_erms` and
//! `exc_page_fault` were 5% of a small-preset pre-training step). With blocks up to 32 MiB
//! (glibc's maximum) taken from the heap and up to 1 GiB of freed heap kept, the next step
//! reuses the same memory. The peak stays where it was (the same blocks are live at once);
//! memory freed after the peak is kept for the next step instead of returned.

/// Applies the settings; call before the first large allocation. A no-op off glibc.
pub fn reuse_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_FROM: libc::c_int = 32 << 20;
        const KEEP_FREED: libc::c_int = 1 << 30;
        // SAFETY: mallopt only changes malloc's thresholds; it is safe to call at any time.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_FROM);
            libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP_FREED);
        }
    }
}
