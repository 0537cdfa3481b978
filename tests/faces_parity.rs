//! MTCNN on burn against facenet-pytorch 2.6.0 (`tools/faces/make_fixtures.py`): the raw
//! network outputs on fixed crops, and whole detections (boxes, scores, landmarks) on real
//! photos, with the reference's settings.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use serde_json::Value;
use svfap_tui::backend::Cpu;
use svfap_tui::data::frame::Frame;
use svfap_tui::faces::nets::Mtcnn;
use svfap_tui::faces::resample::normalise;
use svfap_tui::faces::weights::MTCNN_SAFETENSORS;
use svfap_tui::faces::{DetectorConfig, Face, FaceDetector};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/faces")
}

fn load_png(name: &str) -> Frame {
    let img = image::open(fixtures().join(name)).unwrap().to_rgb8();
    Frame::new(img.width() as usize, img.height() as usize, img.into_raw())
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    match v {
        Value::Array(a) => a.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap() as f32],
        other => panic!("not a number: {other}"),
    }
}

/// Normalised `[n, 3, s, s]` input from square crops (y, x, size) of a frame, or one
/// rectangular crop (y, x, h, w).
fn crops(frame: &Frame, rects: &[(usize, usize, usize, usize)]) -> Tensor<Cpu, 4> {
    let (h, w) = (rects[0].2, rects[0].3);
    let mut data = Vec::new();
    for &(y0, x0, _, _) in rects {
        for c in 0..3 {
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    data.push(normalise(frame.pixel(x, y)[c] as f32));
                }
            }
        }
    }
    Tensor::from_data(
        TensorData::new(data, [rects.len(), 3, h, w]),
        &Default::default(),
    )
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn values<const D: usize>(t: Tensor<Cpu, D>) -> Vec<f32> {
    t.into_data().to_vec().unwrap()
}

#[test]
fn networks_match_facenet_pytorch_on_fixed_crops() {
    let nets = Mtcnn::<Cpu>::load(MTCNN_SAFETENSORS, &Default::default()).unwrap();
    let img = load_png("astronaut.png");
    let fx = json("nets.json");
    let c = floats(&fx["crops"]["pnet"]);
    let (reg, prob) = nets.pnet.forward(crops(
        &img,
        &[(c[0] as usize, c[1] as usize, c[2] as usize, c[3] as usize)],
    ));
    let shape: Vec<usize> = floats(&fx["pnet"]["reg_shape"])
        .iter()
        .map(|&v| v as usize)
        .collect();
    assert_eq!(
        reg.dims()[1..].to_vec(),
        shape,
        "P-Net output grid (ceil-mode pooling)"
    );
    assert!(max_abs_diff(&values(reg), &floats(&fx["pnet"]["reg"])) < 1e-4);
    assert!(max_abs_diff(&values(prob), &floats(&fx["pnet"]["prob"])) < 1e-4);

    let square = |key: &str| -> Vec<(usize, usize, usize, usize)> {
        fx["crops"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let r = floats(r);
                (r[0] as usize, r[1] as usize, r[2] as usize, r[2] as usize)
            })
            .collect()
    };
    let (reg, prob) = nets.rnet.forward(crops(&img, &square("rnet")));
    assert!(max_abs_diff(&values(reg), &floats(&fx["rnet"]["reg"])) < 1e-4);
    assert!(max_abs_diff(&values(prob), &floats(&fx["rnet"]["prob"])) < 1e-4);
    let (reg, points, prob) = nets.onet.forward(crops(&img, &square("onet")));
    assert!(max_abs_diff(&values(reg), &floats(&fx["onet"]["reg"])) < 1e-4);
    assert!(max_abs_diff(&values(points), &floats(&fx["onet"]["points"])) < 1e-4);
    assert!(max_abs_diff(&values(prob), &floats(&fx["onet"]["prob"])) < 1e-4);
}

fn reference_faces(entry: &Value) -> Vec<Face> {
    entry["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let b = floats(&f["bbox"]);
            let l = floats(&f["landmarks"]);
            Face {
                bbox: [b[0], b[1], b[2], b[3]],
                score: f["score"].as_f64().unwrap() as f32,
                landmarks: std::array::from_fn(|k| [l[2 * k], l[2 * k + 1]]),
            }
        })
        .collect()
}

/// Largest box and landmark coordinate error (px) and score error over matched faces.
fn compare(ours: &[Face], reference: &[Face], name: &str) -> (f32, f32, f32) {
    assert_eq!(
        ours.len(),
        reference.len(),
        "{name}: ours {ours:?}\nreference {reference:?}"
    );
    let (mut box_err, mut lm_err, mut score_err) = (0f32, 0f32, 0f32);
    for r in reference {
        // Pair each reference face with our nearest box (order of equal scores may differ).
        let o = ours
            .iter()
            .min_by(|a, b| {
                let d = |f: &Face| (0..4).map(|k| (f.bbox[k] - r.bbox[k]).abs()).sum::<f32>();
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        for k in 0..4 {
            box_err = box_err.max((o.bbox[k] - r.bbox[k]).abs());
        }
        for k in 0..5 {
            for d in 0..2 {
                lm_err = lm_err.max((o.landmarks[k][d] - r.landmarks[k][d]).abs());
            }
        }
        score_err = score_err.max((o.score - r.score).abs());
    }
    (box_err, lm_err, score_err)
}

#[test]
fn detections_match_facenet_pytorch_on_photos() {
    let fx = json("detections.json");
    let params = &fx["params"];
    let config = DetectorConfig {
        min_face_size: params["min_face_size"].as_f64().unwrap(),
        thresholds: std::array::from_fn(|k| params["thresholds"][k].as_f64().unwrap() as f32),
        factor: params["factor"].as_f64().unwrap(),
    };
    assert_eq!(
        config,
        DetectorConfig::default(),
        "fixtures use facenet-pytorch's defaults"
    );
    let detector = FaceDetector::<Cpu>::with_config(config, &Default::default()).unwrap();
    let images = fx["images"].as_object().unwrap();
    let mut total_faces = 0;
    for (name, entry) in images {
        let frame = load_png(name);
        assert_eq!(frame.width as u64, entry["width"].as_u64().unwrap());
        let reference = reference_faces(entry);
        total_faces += reference.len();
        let ours = detector.detect(&frame);
        let (b, l, s) = compare(&ours, &reference, name);
        if let (Some(o), Some(r)) = (ours.first(), reference.first()) {
            println!(
                "{name}: ours {:?} {}, reference {:?} {}",
                o.bbox, o.score, r.bbox, r.score
            );
        }
        println!(
            "{name}: {} faces, max box error {b:.4} px, landmark {l:.4} px, score {s:.2e}",
            ours.len()
        );
        assert!(b < 1.0, "{name}: box error {b} px");
        assert!(l < 1.0, "{name}: landmark error {l} px");
        assert!(s < 1e-3, "{name}: score error {s}");
    }
    // The fixtures hold faces (astronaut, cameraman, two in the composite) and a photo
    // without one (coffee): an empty detector cannot pass.
    assert_eq!(total_faces, 4);
    assert!(reference_faces(&images["coffee.png"]).is_empty());
}

#[test]
fn batch_detection_equals_one_by_one() {
    let detector = FaceDetector::<Cpu>::new(&Default::default()).unwrap();
    let frames = [
        load_png("two_faces.png"),
        load_png("astronaut.png"),
        load_png("two_faces.png"),
    ];
    let batch = detector.detect_batch(&frames);
    for (f, faces) in frames.iter().zip(&batch) {
        let single = detector.detect(f);
        assert_eq!(single.len(), faces.len());
        for (a, b) in single.iter().zip(faces) {
            for k in 0..4 {
                assert!((a.bbox[k] - b.bbox[k]).abs() < 1e-3);
            }
        }
    }
    assert_eq!(batch[0].len(), 2);
}
