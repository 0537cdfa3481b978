//! From decoded frames to the normalised clips a model sees, the way its test view makes
//! them: the short side resized to the model's size, a centre crop, the model's pixel
//! normalisation. With a face track, each frame is first cropped to the aligned face (at the
//! model's size); a frame without the face falls back to the centre crop and is counted.

use anyhow::Result;

use super::windows::Window;
use crate::data::frame::{Frame, short_side_size, to_normalized_tensor};
use crate::data::source::{ClipSource, DecodeOptions, Resize};
use crate::data::transforms::center_crop;
use crate::faces::{AlignConfig, Face};
use crate::model::input_spec::InputSpec;

#[derive(Debug, Clone)]
pub struct ClipFrames {
    /// Output side (the model's image size).
    pub size: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// The main face on each frame of the video, and how it is cropped.
    pub faces: Option<(Vec<Option<Face>>, AlignConfig)>,
}

impl ClipFrames {
    pub fn new(size: usize, input: &InputSpec) -> Self {
        Self {
            size,
            mean: input.mean,
            std: input.std,
            faces: None,
        }
    }

    /// The same clips cut from the tracked face (`faces[i]` on frame `i`).
    pub fn with_faces(&self, faces: Vec<Option<Face>>, align: AlignConfig) -> Self {
        Self {
            faces: Some((
                faces,
                AlignConfig {
                    size: self.size,
                    ..align
                },
            )),
            ..self.clone()
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
            resize: match self.faces {
                Some(_) => Resize::Native,
                None => Resize::ShortSide(self.size),
            },
            ..*decode
        };
        let decoded = source.read(&union, &opts)?;
        let warnings = decoded.warnings;
        // Each distinct frame is cropped once, however many windows share it.
        let cropped = match &self.faces {
            None => center_crop(&decoded.frames, self.size, self.size),
            // Frames without the face are counted by the tracker's summary.
            Some((faces, align)) => union
                .iter()
                .zip(&decoded.frames)
                .map(|(&i, f)| match faces.get(i).copied().flatten() {
                    Some(face) => crate::faces::align(f, &face, align),
                    // Resized as the decoder resizes for the plain test view.
                    None => {
                        let (w, h) = short_side_size(f.width, f.height, self.size);
                        let r = f.resize(w, h);
                        center_crop(std::slice::from_ref(&r), self.size, self.size).remove(0)
                    }
                })
                .collect(),
        };
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
        Ok((out, warnings))
    }
}
