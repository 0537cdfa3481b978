//! Detection on a reduced copy of large frames: MTCNN's pyramid at full HD costs ~9× that of
//! 360p for the same faces, and faces in affect videos are large. Boxes and landmarks are
//! scaled back to the frame.

use burn::prelude::Backend;

use super::detect::{Face, FaceDetector};
use crate::data::frame::Frame;

fn scaled(face: Face, s: f32) -> Face {
    Face {
        bbox: face.bbox.map(|v| v * s),
        landmarks: face.landmarks.map(|[x, y]| [x * s, y * s]),
        ..face
    }
}

/// Faces of each of `frames` (of one size), detected on copies whose short side is at most
/// `side` (0: full resolution).
pub fn detect_scaled<B: Backend>(
    detector: &FaceDetector<B>,
    frames: &[Frame],
    side: usize,
) -> Vec<Vec<Face>> {
    let Some(first) = frames.first() else {
        return vec![];
    };
    let short = first.width.min(first.height);
    if side == 0 || short <= side {
        return detector.detect_batch(frames);
    }
    let s = side as f64 / short as f64;
    let small: Vec<Frame> = frames
        .iter()
        .map(|f| {
            f.resize(
                ((f.width as f64 * s).round() as usize).max(1),
                ((f.height as f64 * s).round() as usize).max(1),
            )
        })
        .collect();
    let back = (1.0 / s) as f32;
    detector
        .detect_batch(&small)
        .into_iter()
        .map(|faces| faces.into_iter().map(|f| scaled(f, back)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_come_back_in_frame_pixels() {
        let f = Face {
            bbox: [10.0, 20.0, 30.0, 40.0],
            score: 0.9,
            landmarks: [[1.0, 2.0]; 5],
        };
        let g = scaled(f, 2.0);
        assert_eq!(g.bbox, [20.0, 40.0, 60.0, 80.0]);
        assert_eq!(g.landmarks[0], [2.0, 4.0]);
        assert_eq!(g.score, 0.9);
    }
}
