//! Everything that turns files on disk into clips for the model (DESIGN §4, §6, §7):
//! decoding (video files through FFmpeg with the `video` feature, frame folders always),
//! clip sampling, transforms and augmentation, manifests, the dataset registry, the
//! parallel loader and the synthetic face-video generator.
//!
//! Backend-agnostic: clips are `Vec<f32>` in `[3, T, H, W]` order, ImageNet-normalised.

mod affine_warp;
pub mod audit;
pub mod augment;
pub mod decode_options;
pub mod demo;
pub mod demo_set;
pub mod error;
pub mod folder;
pub mod frame;
pub mod frame_pack;
pub mod frame_pack_writer;
pub mod level;
pub mod loader;
pub mod manifest;
pub mod randaugment;
pub mod randaugment_ops;
pub mod registry;
pub mod resample;
pub mod sampling;
pub mod source;
pub mod thread_clock;
pub mod transforms;
pub mod view;

#[cfg(feature = "video")]
pub mod decode;
#[cfg(feature = "video")]
pub mod encode;
#[cfg(feature = "video")]
pub mod ffmpeg_log;

#[cfg(test)]
mod frame_pack_tests;
#[cfg(test)]
mod golden_tests;

pub use error::{DataError, DataErrorKind, DataResult};
pub use frame::Frame;
pub use sampling::ClipSpec;
pub use source::{ClipSource, DecodeOptions, Decoded, Resize};
pub use view::{ClipTensor, LoadedClips, ViewConfig, ViewKind, load_clips};
