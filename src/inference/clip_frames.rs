//! From decoded frames to the normalised clips a model sees, the way its test view makes
//! them: the short side resized to the model's size, a centre crop, the model's pixel
//! normalisation.

use anyhow::Result;

use super::windows::Window;
use crate::data::frame::{Frame, to_normalized_tensor};
use crate::data::source::{ClipSource, DecodeOptions, Resize};
use crate::data::transforms::center_crop;
use crate::model::input_spec::InputSpec;

#[derive(Debug, Clone)]
pub struct ClipFrames {
    /// Output side (the model's image size).
    pub size: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl ClipFrames {
    pub fn new(size: usize, input: &InputSpec) -> Self {
        Self {
            size,
            mean: input.mean,
            std: input.std,
        }
    }

    /// The clips of `windows`, one after another, plus the warnings met decoding them.
    pub fn make(
        &self,
        source: &mut ClipSource,
        windows: &[Window],
        decode: &DecodeOptions,
    ) -> Result<(Vec<f32>, Vec<String>)> {
        let mut union: Vec<usize> = windows.iter().flat_map(|w| w.frames.clone()).collect();
        union.sort_unstable();
        union.dedup();
        let opts = DecodeOptions {
            resize: Resize::ShortSide(self.size),
            ..decode.clone()
        };
        let decoded = source.read(&union, &opts)?;
        // Each distinct frame is cropped once, however many windows share it.
        let cropped = center_crop(&decoded.frames, self.size, self.size);
        let mut out = Vec::new();
        for w in windows {
            let frames: Vec<Frame> = w
                .frames
                .iter()
                .map(|i| {
                    cropped[union.binary_search(i).expect("decoded frame of the window")].clone()
                })
                .collect();
            out.extend(to_normalized_tensor(&frames, self.mean, self.std));
        }
        Ok((out, decoded.warnings))
    }
}
