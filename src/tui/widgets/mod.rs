//! Overlays and pictures shared by the views.

pub mod dialog;
pub mod help;
pub mod open_video;
pub mod picture;
