//! CubeCL's runtime configuration for the CUDA and wgpu backends: where compiled kernels
//! and autotune results are kept.
//!
//! CubeCL compiles each kernel at its first use (NVRTC on CUDA) and autotunes each new
//! matmul shape by compiling and timing ~10–20 candidates; for SVFAP that is minutes, paid
//! again by every process without a cache. By default CubeCL keeps autotune results under
//! `target/` of the nearest `Cargo.toml` above the working folder, so a run started from
//! elsewhere starts cold. Unless a `cubecl.toml`/`burn.toml` (looked up from the working
//! folder upwards, as CubeCL does) chooses otherwise, both caches go to
//! [`cache_dir`]: `$SVFAP_CUBECL_CACHE`, else `~/.cache/svfap-tui/cubecl`, whatever the
//! working folder. `svfap-tui warmup` fills them.

use std::path::PathBuf;

use burn_cubecl::cubecl::config::cache::CacheConfig;
use burn_cubecl::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};

/// Where compiled kernels and autotune results are kept.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SVFAP_CUBECL_CACHE") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("svfap-tui/cubecl"))
}

/// Sets CubeCL's global configuration once, before any CubeCL device is made.
pub fn configure_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let config = with_our_caches(
            CubeClRuntimeConfig::from_current_dir().override_from_env(),
            cache_dir(),
        );
        CubeClRuntimeConfig::set(config);
    });
}

/// `config` with both caches in `dir` where no configuration file chose them.
fn with_our_caches(mut config: CubeClRuntimeConfig, dir: Option<PathBuf>) -> CubeClRuntimeConfig {
    let Some(dir) = dir else { return config };
    if config.compilation.cache.is_none() {
        config.compilation.cache = Some(CacheConfig::File(dir.clone()));
    }
    // `Target` is CubeCL's default: the nearest `target/` above the working folder.
    if matches!(config.autotune.cache, CacheConfig::Target) {
        config.autotune.cache = CacheConfig::File(dir);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_caches_go_to_our_folder_unless_a_file_chose_them() {
        let dir = PathBuf::from("/x/svfap-tui/cubecl");
        let config = with_our_caches(CubeClRuntimeConfig::default(), Some(dir.clone()));
        assert!(matches!(&config.compilation.cache, Some(CacheConfig::File(d)) if *d == dir));
        assert!(matches!(&config.autotune.cache, CacheConfig::File(d) if *d == dir));

        let mut chosen = CubeClRuntimeConfig::default();
        chosen.autotune.cache = CacheConfig::Global;
        chosen.compilation.cache = Some(CacheConfig::Local);
        let config = with_our_caches(chosen, Some(dir));
        assert!(matches!(config.autotune.cache, CacheConfig::Global));
        assert!(matches!(config.compilation.cache, Some(CacheConfig::Local)));
    }
}
