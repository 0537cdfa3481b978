//! Decoder settings shared by frame folders and video files.

use super::frame::short_side_size;

/// How decoded frames are sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resize {
    /// The stored size (after rotation).
    #[default]
    Native,
    /// The shorter side scaled to this many pixels, aspect ratio kept (torchvision rule).
    ShortSide(usize),
    /// Exactly this width × height (after rotation).
    Exact(usize, usize),
}

impl Resize {
    /// The output size for a (display-oriented) `w × h` frame.
    pub fn apply(self, w: usize, h: usize) -> (usize, usize) {
        match self {
            Resize::Native => (w, h),
            Resize::ShortSide(s) => short_side_size(w, h, s),
            Resize::Exact(ow, oh) => (ow, oh),
        }
    }
}

/// Decoder settings.
#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    /// Decoder threads (set explicitly; 1 inside loader workers, which parallelise by file).
    pub threads: usize,
    pub resize: Resize,
    /// Force the seek path even for small files (tests).
    pub force_seek: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            threads: 1,
            resize: Resize::Native,
            force_seek: false,
        }
    }
}
