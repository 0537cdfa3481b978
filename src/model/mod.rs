//! SVFAP on burn (DESIGN §5): configs and presets, the TPSBT encoder and its layers, the
//! fine-tuning classifier, the MAE pre-trainer, targets, accounting and checkpoints.

pub mod accounting;
pub mod activation;
pub mod attention;
pub mod block;
pub mod checkpoint;
pub mod checkpoint_save;
pub mod classifier;
pub mod config;
pub mod cross_attention;
pub mod cross_self_block;
pub mod decoder;
pub mod dense;
pub mod drop_path;
pub mod encoder;
pub mod init;
pub mod input_spec;
pub mod mlp;
pub mod multi_head;
pub mod norm;
pub mod patch_embed;
pub mod pixel_norm;
pub mod precision;
pub mod presets;
pub mod pretrainer;
pub mod probe;
mod recomputed_attention;
pub mod sinusoid;
pub mod spatial_attention;
pub mod target;
pub mod temporal_downsample;
pub mod tube_mask;

pub use classifier::{ClassifierOutput, SvfapClassifier};
pub use config::{
    ClassifierConfig, DecoderConfig, EncoderConfig, HeadActivation, PretrainerConfig,
    ReconstructionTarget,
};
pub use presets::{Preset, preset};
pub use pretrainer::SvfapPretrainer;
pub use tube_mask::TubeMask;
