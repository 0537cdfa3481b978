//! Hyper-parameters of SVFAP as data (DESIGN §5, paper Table 3 and Table 4).
//!
//! Every size is configurable; `presets.rs` holds the published ones. `validate` refuses an
//! impossible shape before any tensor is allocated, naming the field at fault.

use serde::{Deserialize, Serialize};

/// A configuration value that cannot build a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid model config: `{field}`: {reason}")]
pub struct ConfigError {
    pub field: &'static str,
    pub reason: String,
}

fn refuse(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        reason: reason.into(),
    }
}

/// The TPSBT trunk (patch embedding, stage-1 ViT blocks, temporal pyramid and spatial
/// bottleneck stages). Shared by the fine-tune model and the pre-trainer's encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// Square frame side in pixels (paper: 160).
    pub img_size: usize,
    /// Frames per clip (paper: 16).
    pub frames: usize,
    /// Frames per tubelet (paper: 2).
    pub tubelet: usize,
    /// Patch side in pixels (paper: 16).
    pub patch: usize,
    /// Input channels (RGB).
    pub in_chans: usize,
    /// Token width C.
    pub width: usize,
    /// Attention heads (self and cross).
    pub heads: usize,
    /// MLP hidden width = width × mlp_ratio.
    pub mlp_ratio: usize,
    /// Blocks per stage (M1, M2, …); stage i > 1 ends with its reverse block.
    pub stage_depths: Vec<usize>,
    /// Bottleneck tokens G per time slice for each stage after the first (one value = all).
    pub bottleneck_tokens: Vec<usize>,
    /// Hidden width of the spatial-attention MLP (released code: 128).
    pub bottleneck_hidden: usize,
    /// Kernel = stride of the temporal Conv1d that halves T at each later stage.
    pub temporal_kernel: usize,
    /// Stochastic depth rate of the last block (linearly increasing from 0).
    pub drop_path: f64,
}

impl EncoderConfig {
    /// Time slices after patch embedding (T0).
    pub fn temporal_len(&self) -> usize {
        self.frames / self.tubelet
    }
    /// Patches per side of a frame.
    pub fn grid(&self) -> usize {
        self.img_size / self.patch
    }
    /// Spatial positions per time slice (S).
    pub fn spatial_len(&self) -> usize {
        self.grid() * self.grid()
    }
    /// Tokens per clip (T0 × S).
    pub fn num_tokens(&self) -> usize {
        self.temporal_len() * self.spatial_len()
    }
    /// Values in one tube: channels × tubelet × patch².
    pub fn patch_dim(&self) -> usize {
        self.in_chans * self.tubelet * self.patch * self.patch
    }
    pub fn num_stages(&self) -> usize {
        self.stage_depths.len()
    }
    pub fn num_blocks(&self) -> usize {
        self.stage_depths.iter().sum()
    }
    /// Time slices seen by stage `stage` (0-based): T0 / k^stage.
    pub fn stage_temporal_len(&self, stage: usize) -> usize {
        self.temporal_len() / self.temporal_kernel.pow(stage as u32)
    }
    /// Bottleneck tokens per slice of stage `stage` (≥ 1).
    pub fn stage_bottleneck_tokens(&self, stage: usize) -> usize {
        if self.bottleneck_tokens.len() == 1 {
            self.bottleneck_tokens[0]
        } else {
            self.bottleneck_tokens[stage - 1]
        }
    }
    pub fn head_dim(&self) -> usize {
        self.width / self.heads
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("img_size", self.img_size)?;
        positive("frames", self.frames)?;
        positive("tubelet", self.tubelet)?;
        positive("patch", self.patch)?;
        positive("in_chans", self.in_chans)?;
        positive("width", self.width)?;
        positive("heads", self.heads)?;
        positive("mlp_ratio", self.mlp_ratio)?;
        positive("bottleneck_hidden", self.bottleneck_hidden)?;
        if !self.img_size.is_multiple_of(self.patch) {
            return Err(refuse(
                "img_size",
                format!(
                    "{} is not a multiple of patch {}",
                    self.img_size, self.patch
                ),
            ));
        }
        if !self.frames.is_multiple_of(self.tubelet) {
            return Err(refuse(
                "frames",
                format!(
                    "{} is not a multiple of tubelet {}",
                    self.frames, self.tubelet
                ),
            ));
        }
        if !self.width.is_multiple_of(self.heads) {
            return Err(refuse(
                "heads",
                format!("{} heads do not divide width {}", self.heads, self.width),
            ));
        }
        if self.stage_depths.is_empty() || self.stage_depths.contains(&0) {
            return Err(refuse(
                "stage_depths",
                format!(
                    "{:?}: every stage needs at least one block",
                    self.stage_depths
                ),
            ));
        }
        let later = self.num_stages() - 1;
        if later > 0 {
            if self.temporal_kernel < 2 {
                return Err(refuse(
                    "temporal_kernel",
                    "must be at least 2 to build a temporal pyramid",
                ));
            }
            let needed = self.temporal_kernel.pow(later as u32);
            if !self.temporal_len().is_multiple_of(needed) {
                return Err(refuse(
                    "frames",
                    format!(
                        "{} time slices cannot be divided by temporal_kernel^{later} = {needed} ({} stages)",
                        self.temporal_len(),
                        self.num_stages()
                    ),
                ));
            }
            if self.bottleneck_tokens.len() != 1 && self.bottleneck_tokens.len() != later {
                return Err(refuse(
                    "bottleneck_tokens",
                    format!(
                        "give one value or one per later stage ({later}), got {:?}",
                        self.bottleneck_tokens
                    ),
                ));
            }
            if self.bottleneck_tokens.contains(&0) {
                return Err(refuse("bottleneck_tokens", "must be at least 1"));
            }
        }
        if !(0.0..1.0).contains(&self.drop_path) {
            return Err(refuse(
                "drop_path",
                format!("{} is outside [0, 1)", self.drop_path),
            ));
        }
        Ok(())
    }
}

fn positive(field: &'static str, value: usize) -> Result<(), ConfigError> {
    if value == 0 {
        Err(refuse(field, "must be positive"))
    } else {
        Ok(())
    }
}

/// Activation after the task head (released code: `head_activation_func`), for regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HeadActivation {
    #[default]
    None,
    Sigmoid,
    Tanh,
    Relu,
}

/// Fine-tuning model: TPSBT → mean pool → `fc_norm` → `head`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    pub encoder: EncoderConfig,
    /// Classes (classification) or targets (regression).
    pub num_outputs: usize,
    #[serde(default)]
    pub head_activation: HeadActivation,
    /// Pool X1 + up(X2) + up(X3) instead of the last stage (paper Table 4, fine-tuning column).
    #[serde(default)]
    pub fuse_multiscale: bool,
}

impl ClassifierConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.encoder.validate()?;
        positive("num_outputs", self.num_outputs)
    }
}

/// The MAE decoder of the pre-trainer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderConfig {
    pub width: usize,
    pub depth: usize,
    pub heads: usize,
}

/// What the decoder regresses for each masked tube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReconstructionTarget {
    /// Pixels in [0, 1] normalised per tube and channel by their mean and unbiased std
    /// (released `engine_for_pretraining.py`, `normlize_target=True`).
    #[default]
    NormalizedPixels,
    /// Plain pixels in [0, 1] (paper Eq. 11).
    Pixels,
}

/// Pre-training model: encoder on visible tubes, multi-scale fusion, MAE decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainerConfig {
    pub encoder: EncoderConfig,
    pub decoder: DecoderConfig,
    /// Share of spatial positions masked in every time slice (paper: 0.9).
    pub mask_ratio: f64,
    /// Fuse X1 + up(X2) + up(X3) before the decoder (paper Table 4, pre-training column);
    /// off = the last stage alone, upsampled in time.
    #[serde(default = "default_true")]
    pub fuse_multiscale: bool,
    #[serde(default)]
    pub target: ReconstructionTarget,
}

fn default_true() -> bool {
    true
}

impl PretrainerConfig {
    /// Masked spatial positions per time slice, as the released `TubeMaskingGenerator`.
    pub fn masked_per_slice(&self) -> usize {
        (self.mask_ratio * self.encoder.spatial_len() as f64) as usize
    }
    pub fn visible_per_slice(&self) -> usize {
        self.encoder.spatial_len() - self.masked_per_slice()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.encoder.validate()?;
        positive("decoder.width", self.decoder.width)?;
        positive("decoder.depth", self.decoder.depth)?;
        positive("decoder.heads", self.decoder.heads)?;
        if !self.decoder.width.is_multiple_of(self.decoder.heads) {
            return Err(refuse(
                "decoder.heads",
                format!(
                    "{} heads do not divide decoder width {}",
                    self.decoder.heads, self.decoder.width
                ),
            ));
        }
        if !(self.mask_ratio > 0.0 && self.mask_ratio < 1.0) {
            return Err(refuse(
                "mask_ratio",
                format!("{} is outside (0, 1)", self.mask_ratio),
            ));
        }
        let s = self.encoder.spatial_len();
        if self.masked_per_slice() == 0 || self.visible_per_slice() == 0 {
            return Err(refuse(
                "mask_ratio",
                format!(
                    "{} of {s} positions per slice leaves {} masked and {} visible; both must be ≥ 1",
                    self.mask_ratio,
                    self.masked_per_slice(),
                    self.visible_per_slice()
                ),
            ));
        }
        Ok(())
    }
}
