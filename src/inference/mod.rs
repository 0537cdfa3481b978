//! Running a trained model on the user's own data: one video scored in sliding windows (a
//! timeline), or many videos scored with the test protocol of the run that trained it. Shared
//! by `infer` and `features`; the clip geometry comes from the checkpoint (`InputSpec`).

pub mod clip_frames;
pub mod face_clips;
pub mod features_file;
pub mod input;
pub mod inspection;
pub mod many;
pub mod scorer;
pub mod timeline;
pub mod video_faces;
pub mod windows;
