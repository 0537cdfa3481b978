//! Face detection (MTCNN with embedded weights), five-point landmarks, alignment into square
//! crops, and tracking of one face through a video.
//!
//! Files, lowest first: `weights` (the embedded safetensors) → `nets` (P-, R-, O-Net on
//! burn) → `resample`, `nms` → `detect` (the cascade, `FaceDetector`) → `align` (crops) and
//! `track` (the main face over a video).

pub mod align;
pub mod detect;
pub mod error;
pub mod nets;
pub mod nms;
pub mod resample;
pub mod scaled;
pub mod track;
pub mod weights;

pub use align::{AlignConfig, AlignMode, Similarity, align};
pub use detect::{DetectorConfig, Face, FaceDetector};
pub use error::{FacesError, FacesResult};
pub use scaled::detect_scaled;
pub use track::{MainFace, TrackConfig, TrackResult, TrackSummary, sampled_frames, track};
