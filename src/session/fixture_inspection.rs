//! A sample inspection (`inspect/<name>/`) for the fixture sessions: a 6-second synthetic
//! video of a face drifting right, scored in 4 windows by a fine-tuned run, the face found
//! on every frame but the last second's.

use super::error::SessionError;
use super::inspection::{
    FaceCounts, FaceMark, InspectedWindow, Inspection, InspectionDir, write_faces,
};
use super::layout::SessionDir;

/// Writes the inspection of `video.mp4` by run `run` (classes `labels`) under
/// `session/inspect/`, dated `written` (unix seconds).
pub fn write_inspection(
    session: &SessionDir,
    run: &str,
    labels: &[&str],
    written: f64,
) -> Result<InspectionDir, SessionError> {
    let dir = InspectionDir::new(session.inspect().join(format!("video--{run}")));
    let frames_dir = dir.root.join("frames");
    std::fs::create_dir_all(&frames_dir).map_err(SessionError::io(&frames_dir))?;
    let (w, h, fps, frames) = (160usize, 90usize, 25.0, 150usize);
    let face_at = |i: usize| -> Option<FaceMark> {
        (i < 125).then(|| {
            let x = 40.0 + i as f32 * 0.4;
            FaceMark {
                bbox: [x, 15.0, x + 50.0, 75.0],
                landmarks: [
                    [x + 15.0, 35.0],
                    [x + 35.0, 35.0],
                    [x + 25.0, 48.0],
                    [x + 17.0, 60.0],
                    [x + 33.0, 60.0],
                ],
            }
        })
    };
    let marks: Vec<Option<FaceMark>> = (0..frames).map(face_at).collect();
    write_faces(&dir, &marks)?;
    let labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    // Happy early on, surprised later, neutral once the face leaves.
    let profile = |k: usize| -> Vec<f32> {
        let mut p = vec![0.04f32; labels.len()];
        let (main, second) = match k {
            0 | 1 => (0, 6),
            2 => (6, 0),
            3 => (6, 3),
            _ => (3, 6),
        };
        p[main] = 0.62;
        p[second] = 0.18;
        let sum: f32 = p.iter().sum();
        p.iter().map(|v| v / sum).collect()
    };
    // Windows of 16 frames × stride 4 every 32 frames, the last aligned to the end.
    let span = 64;
    let windows: Vec<InspectedWindow> = [0usize, 32, 64]
        .into_iter()
        .chain([frames - span])
        .enumerate()
        .map(|(k, first)| {
            let shown = first + span / 2;
            InspectedWindow {
                first,
                last: first + span - 1,
                frames: (0..16).map(|f| first + f * 4).collect(),
                start_s: first as f64 / fps,
                end_s: (first + span) as f64 / fps,
                probs: profile(k),
                shown_frame: shown,
                face: face_at(shown),
            }
        })
        .collect();
    for (k, win) in windows.iter().enumerate() {
        let face = win.face;
        let img = image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let inside = face.is_some_and(|f| {
                let (cx, cy) = ((f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0);
                ((x as f32 - cx) / 22.0).powi(2) + ((y as f32 - cy) / 28.0).powi(2) < 1.0
            });
            if inside {
                image::Rgb([220, 170, 140])
            } else {
                image::Rgb([40, 60 + (y as u8 / 3), 90])
            }
        });
        let path = dir.frame(k);
        img.save(&path).map_err(|e| SessionError::parse(&path, e))?;
    }
    let n = windows.len() as f32;
    let mut mean = vec![0f32; labels.len()];
    for win in &windows {
        for (m, p) in mean.iter_mut().zip(&win.probs) {
            *m += p / n;
        }
    }
    Inspection {
        format: super::FORMAT,
        video: session.root.join("videos/video.mp4"),
        checkpoint: session
            .run(run)
            .checkpoints()
            .join("step-000400.safetensors"),
        run: Some(run.to_string()),
        labels,
        regression: false,
        fps,
        frames,
        frame_size: [w, h],
        clip_frames: 16,
        clip_stride: 4,
        align: "landmarks".into(),
        windows,
        probs: mean,
        faces: Some(FaceCounts {
            detected: 25,
            interpolated: 100,
            missing: 25,
        }),
        warnings: vec![],
        seconds: 4.2,
        written,
    }
    .write(&dir)?;
    Ok(dir)
}
