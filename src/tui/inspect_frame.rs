//! The Inspect view's picture of a window: its middle frame with the tracked face's box and
//! five landmarks drawn on it, prepared off the UI thread like the other images.

use std::path::PathBuf;

use image::{Rgb, RgbImage};
use ratatui::layout::Rect;
use ratatui_image::protocol::Protocol;

use crate::session::inspection::FaceMark;

#[derive(Debug, Clone, PartialEq)]
pub struct FrameKey {
    pub inspection: String,
    pub window: usize,
    pub area: Rect,
}

pub struct FrameJob {
    pub key: FrameKey,
    pub jpg: PathBuf,
    pub face: Option<FaceMark>,
    /// Size of the video's frames, which the face's coordinates are in.
    pub frame_size: [usize; 2],
}

pub struct FrameReady {
    pub key: FrameKey,
    pub protocol: Option<Protocol>,
    pub error: Option<String>,
}

/// Box colour (green) and the landmarks' (eyes blue, nose yellow, mouth corners red).
const BOX: Rgb<u8> = Rgb([60, 220, 90]);
const LANDMARKS: [Rgb<u8>; 5] = [
    Rgb([70, 150, 255]),
    Rgb([70, 150, 255]),
    Rgb([255, 220, 40]),
    Rgb([240, 60, 60]),
    Rgb([240, 60, 60]),
];

/// The frame in `job.jpg` with the face drawn on it (scaled from the video's frame size to
/// the stored picture's); lines about 1/120 of the picture thick, at least 2 px.
pub fn frame_with_face(job: &FrameJob) -> Result<RgbImage, String> {
    let mut img = image::open(&job.jpg)
        .map_err(|e| format!("{}: {e}", job.jpg.display()))?
        .to_rgb8();
    let Some(face) = job.face else {
        return Ok(img);
    };
    let (w, h) = img.dimensions();
    let sx = w as f32 / job.frame_size[0].max(1) as f32;
    let sy = h as f32 / job.frame_size[1].max(1) as f32;
    let thick = (w.max(h) / 120).max(2) as i64;
    let [x0, y0, x1, y1] = face.bbox;
    let (x0, y0) = ((x0 * sx) as i64, (y0 * sy) as i64);
    let (x1, y1) = ((x1 * sx) as i64, (y1 * sy) as i64);
    fill(&mut img, x0, y0, x1, y0 + thick, BOX);
    fill(&mut img, x0, y1 - thick, x1, y1, BOX);
    fill(&mut img, x0, y0, x0 + thick, y1, BOX);
    fill(&mut img, x1 - thick, y0, x1, y1, BOX);
    let r = thick + 1;
    for ([lx, ly], colour) in face.landmarks.iter().zip(LANDMARKS) {
        let (cx, cy) = ((lx * sx) as i64, (ly * sy) as i64);
        fill(&mut img, cx - r, cy - r, cx + r, cy + r, colour);
    }
    Ok(img)
}

/// Paints the pixels of [x0, x1) × [y0, y1) that lie inside the picture.
fn fill(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb<u8>) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            img.put_pixel(x as u32, y as u32, colour);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_and_landmarks_land_where_the_face_is_at_the_stored_scale() {
        let dir = tempfile::tempdir().unwrap();
        let jpg = dir.path().join("f.jpg");
        // Stored at half the video's size.
        RgbImage::from_pixel(320, 180, Rgb([0, 0, 0]))
            .save(&jpg)
            .unwrap();
        let face = FaceMark {
            bbox: [200.0, 100.0, 400.0, 300.0],
            landmarks: [
                [250.0, 170.0],
                [350.0, 170.0],
                [300.0, 220.0],
                [260.0, 260.0],
                [340.0, 260.0],
            ],
        };
        let job = FrameJob {
            key: FrameKey {
                inspection: "x".into(),
                window: 0,
                area: Rect::default(),
            },
            jpg,
            face: Some(face),
            frame_size: [640, 360],
        };
        let img = frame_with_face(&job).unwrap();
        let green = |x, y| {
            let [r, g, b] = img.get_pixel(x, y).0;
            g > 150 && r < 120 && b < 150
        };
        assert!(green(150, 51), "top edge of the box at y = 50");
        assert!(green(100, 100), "left edge at x = 100");
        assert!(!green(150, 100), "inside the box is untouched");
        let [r, g, b] = img.get_pixel(150, 110).0;
        assert!(
            r > 150 && g > 150 && b < 120,
            "the nose, yellow: {r} {g} {b}"
        );
        let [r, _, b] = img.get_pixel(125, 85).0;
        assert!(b > 150 && r < 150, "the left eye, blue");
        // A face off the picture's edge does not panic.
        let job = FrameJob {
            face: Some(FaceMark {
                bbox: [-50.0, -50.0, 900.0, 900.0],
                landmarks: [[-10.0, 1000.0]; 5],
            }),
            ..job
        };
        assert!(frame_with_face(&job).is_ok());
    }
}
