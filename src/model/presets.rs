//! Published and CPU-sized presets (paper Table 3; DESIGN §5).

use super::config::{DecoderConfig, EncoderConfig};

/// A named architecture: the encoder trunk and the pre-training decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    pub encoder: EncoderConfig,
    pub decoder: DecoderConfig,
}

pub const PRESET_NAMES: [&str; 4] = ["base", "small", "demo", "test"];

/// Looks a preset up by name; the error lists the known ones.
pub fn preset(name: &str) -> Result<Preset, String> {
    let paper = |width, heads, stage_depths: Vec<usize>| EncoderConfig {
        img_size: 160,
        frames: 16,
        tubelet: 2,
        patch: 16,
        in_chans: 3,
        width,
        heads,
        mlp_ratio: 4,
        stage_depths,
        bottleneck_tokens: vec![8],
        bottleneck_hidden: 128,
        temporal_kernel: 2,
        drop_path: 0.0,
    };
    let paper_decoder = DecoderConfig {
        width: 384,
        depth: 4,
        heads: 6,
    };
    Ok(match name {
        "base" => Preset {
            name: "base",
            summary: "SVFAP-B (paper Table 3): 512 wide, 8 heads, stages (12, 6, 3), 8 bottleneck tokens",
            encoder: paper(512, 8, vec![12, 6, 3]),
            decoder: paper_decoder,
        },
        "small" => Preset {
            name: "small",
            summary: "SVFAP-S (paper Table 3): 384 wide, 6 heads, stages (8, 4, 2), 8 bottleneck tokens",
            encoder: paper(384, 6, vec![8, 4, 2]),
            decoder: paper_decoder,
        },
        "demo" => Preset {
            name: "demo",
            summary: "CPU demo: 8 frames of 64x64, 192 wide, 3 heads, stages (4, 2, 2), 4 bottleneck tokens",
            encoder: EncoderConfig {
                img_size: 64,
                frames: 8,
                width: 192,
                heads: 3,
                stage_depths: vec![4, 2, 2],
                bottleneck_tokens: vec![4],
                ..paper(0, 0, vec![])
            },
            decoder: DecoderConfig {
                width: 128,
                depth: 2,
                heads: 2,
            },
        },
        "test" => Preset {
            name: "test",
            summary: "unit tests: 8 frames of 32x32, patch 8, 32 wide, 4 heads, stages (2, 2, 2)",
            encoder: EncoderConfig {
                img_size: 32,
                frames: 8,
                patch: 8,
                width: 32,
                heads: 4,
                stage_depths: vec![2, 2, 2],
                bottleneck_tokens: vec![4],
                ..paper(0, 0, vec![])
            },
            decoder: DecoderConfig {
                width: 16,
                depth: 2,
                heads: 2,
            },
        },
        other => {
            return Err(format!(
                "unknown preset `{other}` (known: {})",
                PRESET_NAMES.join(", ")
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid() {
        for name in PRESET_NAMES {
            preset(name).unwrap().encoder.validate().unwrap();
        }
    }

    #[test]
    fn unknown_preset_lists_known_ones() {
        let err = preset("huge").unwrap_err();
        assert!(err.contains("base, small, demo, test"), "{err}");
    }
}
