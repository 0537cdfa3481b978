//! Detection every k-th frame plus tracking on the rendered test videos
//! (`tools/faces/make_fixtures.py`), whose true face box is known on every frame.

#![cfg(feature = "video")]

use std::path::{Path, PathBuf};

use serde_json::Value;
use svfap_tui::backend::Cpu;
use svfap_tui::data::{ClipSource, DecodeOptions, Frame, Resize};
use svfap_tui::faces::{
    AlignConfig, DetectorConfig, Face, FaceDetector, TrackConfig, TrackResult, align,
    sampled_frames, track,
};

const K: usize = 5;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/faces")
}

fn decode(name: &str, resize: Resize) -> Vec<Frame> {
    let opts = DecodeOptions {
        resize,
        ..Default::default()
    };
    let mut src = ClipSource::open(&fixtures().join(name), &opts).unwrap();
    let all: Vec<usize> = (0..src.len()).collect();
    src.read(&all, &opts).unwrap().frames
}

fn detect_every_k(detector: &FaceDetector<Cpu>, frames: &[Frame]) -> Vec<Option<Vec<Face>>> {
    let picks = sampled_frames(frames.len(), K);
    let batch: Vec<Frame> = picks.iter().map(|&i| frames[i].clone()).collect();
    let mut per_frame = vec![None; frames.len()];
    for (i, faces) in picks.into_iter().zip(detector.detect_batch(&batch)) {
        per_frame[i] = Some(faces);
    }
    per_frame
}

fn truth(name: &str) -> Vec<Option<[f32; 4]>> {
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("videos.json")).unwrap())
            .unwrap();
    fx["videos"][name]["main_face"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b.as_array()
                .map(|b| std::array::from_fn(|k| b[k].as_f64().unwrap() as f32))
        })
        .collect()
}

fn run(detector: &FaceDetector<Cpu>, name: &str) -> (TrackResult, Vec<Option<[f32; 4]>>) {
    let frames = decode(name, Resize::Native);
    let truth = truth(name);
    assert_eq!(frames.len(), truth.len(), "{name}: frame count");
    let result = track(&detect_every_k(detector, &frames), &TrackConfig::default()).unwrap();
    println!("{name}: {:?}", result.summary);
    (result, truth)
}

/// Each frame with a true face has the tracked face, centred within a quarter of the face
/// size of the truth and of a size within 30 % of it.
fn assert_follows_truth(
    name: &str,
    result: &TrackResult,
    truth: &[Option<[f32; 4]>],
    skip: impl Fn(usize) -> bool,
) {
    let mut worst = 0f32;
    for (i, (ours, t)) in result.faces.iter().zip(truth).enumerate() {
        let Some(t) = t else { continue };
        if skip(i) {
            continue;
        }
        let ours = ours.unwrap_or_else(|| panic!("{name}: no face on frame {i}"));
        let size = t[2] - t[0];
        let [cx, cy] = ours.centre();
        let err =
            ((cx - (t[0] + t[2]) / 2.0).powi(2) + (cy - (t[1] + t[3]) / 2.0).powi(2)).sqrt() / size;
        worst = worst.max(err);
        assert!(
            err < 0.25,
            "{name}: frame {i} centre off by {err} face sizes: {ours:?} vs {t:?}"
        );
        assert!(
            (ours.width() / size - 1.0).abs() < 0.3,
            "{name}: frame {i} width {} vs {size}",
            ours.width()
        );
    }
    println!("{name}: worst centre error {worst:.3} face sizes");
}

#[test]
fn the_face_is_tracked_through_pan_zoom_and_rotation() {
    let detector = FaceDetector::<Cpu>::new(&Default::default()).unwrap();
    for name in ["pan.mp4", "zoom.mp4", "rotate.mp4"] {
        let (result, truth) = run(&detector, name);
        assert_eq!(result.summary.missing, 0, "{name}");
        assert_follows_truth(name, &result, &truth, |_| false);
    }
}

#[test]
fn a_cut_to_a_frame_without_a_face_is_reported_missing() {
    let detector = FaceDetector::<Cpu>::new(&Default::default()).unwrap();
    let (result, truth) = run(&detector, "cut.mp4");
    let gone: Vec<usize> = (0..truth.len()).filter(|&i| truth[i].is_none()).collect();
    let (first, last) = (gone[0], *gone.last().unwrap());
    // Examined every 5th frame, the tracker may keep the face up to 2 frames into the cut
    // (nearer to the last detection than to the first failed one); the rest is missing.
    let missing = result.missing_ranges();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].start <= first + 2 && missing[0].end >= last - 1,
        "{missing:?} vs cut {first}..={last}"
    );
    assert!(
        missing[0].start >= first && missing[0].end <= last + 1,
        "{missing:?} vs cut {first}..={last}"
    );
    assert_follows_truth("cut.mp4", &result, &truth, |i| {
        i + 3 >= first && i <= last + 3
    });
}

#[test]
fn the_main_face_is_the_big_one() {
    let detector = FaceDetector::<Cpu>::new(&Default::default()).unwrap();
    let (result, truth) = run(&detector, "two_faces.mp4");
    assert!(result.summary.tracks >= 2, "{:?}", result.summary);
    assert_follows_truth("two_faces.mp4", &result, &truth, |_| false);
}

/// At 640×360 (the size `bench faces` measures; run that for frames/s), detection every
/// 5th frame plus tracking gives an aligned crop for every frame, with facenet-pytorch's
/// smallest face (20 px) and with the CLI's default (40 px).
#[test]
fn every_frame_gets_a_crop_at_640x360_with_either_smallest_face() {
    let frames = decode("pan.mp4", Resize::Exact(640, 360));
    for min_face_size in [20.0, 40.0] {
        let config = DetectorConfig {
            min_face_size,
            ..Default::default()
        };
        let detector = FaceDetector::<Cpu>::with_config(config, &Default::default()).unwrap();
        let per_frame = detect_every_k(&detector, &frames);
        let result = track(&per_frame, &TrackConfig::default()).unwrap();
        let cfg = AlignConfig::default();
        let crops: Vec<Frame> = frames
            .iter()
            .zip(&result.faces)
            .filter_map(|(f, face)| face.as_ref().map(|face| align(f, face, &cfg)))
            .collect();
        assert_eq!(crops.len(), frames.len(), "min face {min_face_size}");
        assert!(crops.iter().all(|c| (c.width, c.height) == (224, 224)));
    }
}
