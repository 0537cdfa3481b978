//! MTCNN's three-stage cascade, step for step as facenet-pytorch's `detect_face` runs it
//! (the reference of `tests/faces_parity.rs`): image pyramid → P-Net proposals with
//! per-scale and cross-scale NMS → R-Net on 24² crops → O-Net on 48² crops with landmarks.

use burn::prelude::*;

use super::error::{FacesError, FacesResult};
use super::nets::Mtcnn;
use super::nms::{Overlap, nms};
use super::resample::area_resize_into;
use super::weights::MTCNN_SAFETENSORS;
use crate::data::frame::Frame;

/// Detector settings; the defaults are facenet-pytorch's (`MTCNN()`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Smallest face side searched for, in pixels: the pyramid starts at 12 / this.
    pub min_face_size: f64,
    /// Score thresholds of P-Net (≥), R-Net (>) and O-Net (>).
    pub thresholds: [f32; 3],
    /// Scale step between pyramid levels (0.709 ≈ 1/√2: each level halves the area).
    pub factor: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            min_face_size: 20.0,
            thresholds: [0.6, 0.7, 0.7],
            factor: 0.709,
        }
    }
}

impl DetectorConfig {
    pub fn validate(&self) -> FacesResult<()> {
        let bad = |field, problem: String| Err(FacesError::Config { field, problem });
        if !(self.min_face_size >= 4.0 && self.min_face_size.is_finite()) {
            return bad(
                "min_face_size",
                format!("is {}, must be at least 4 px", self.min_face_size),
            );
        }
        if !(self.factor > 0.05 && self.factor < 0.95) {
            return bad(
                "factor",
                format!("is {}, must lie in (0.05, 0.95)", self.factor),
            );
        }
        if self.thresholds.iter().any(|t| !(0.0..=1.0).contains(t)) {
            return bad(
                "thresholds",
                format!("are {:?}, must lie in [0, 1]", self.thresholds),
            );
        }
        Ok(())
    }

    /// Pyramid scales for an image whose shorter side is `min_side` pixels.
    pub fn scales(&self, min_side: usize) -> Vec<f64> {
        let m = 12.0 / self.min_face_size;
        let mut minl = min_side as f64 * m;
        let mut scale = m;
        let mut scales = Vec::new();
        while minl >= 12.0 {
            scales.push(scale);
            scale *= self.factor;
            minl *= self.factor;
        }
        scales
    }
}

/// One detected face, in the pixel coordinates of the frame it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// x0, y0, x1, y1.
    pub bbox: [f32; 4],
    /// O-Net's face probability.
    pub score: f32,
    /// Left eye, right eye, nose, mouth left, mouth right (left = smaller x in the image).
    pub landmarks: [[f32; 2]; 5],
}

impl Face {
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }

    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }

    pub fn centre(&self) -> [f32; 2] {
        [
            (self.bbox[0] + self.bbox[2]) / 2.0,
            (self.bbox[1] + self.bbox[3]) / 2.0,
        ]
    }
}

/// A candidate between stages: box, score, and which frame of the batch it belongs to.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    frame: usize,
    bbox: [f32; 4],
    score: f32,
}

/// MTCNN on `B`, weights embedded in the binary.
pub struct FaceDetector<B: Backend> {
    nets: Mtcnn<B>,
    config: DetectorConfig,
    device: B::Device,
}

impl<B: Backend> FaceDetector<B> {
    /// facenet-pytorch's default settings.
    pub fn new(device: &B::Device) -> FacesResult<Self> {
        Self::with_config(DetectorConfig::default(), device)
    }

    pub fn with_config(config: DetectorConfig, device: &B::Device) -> FacesResult<Self> {
        config.validate()?;
        Ok(Self {
            nets: Mtcnn::load(MTCNN_SAFETENSORS, device)?,
            config,
            device: device.clone(),
        })
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// The faces in `frame`, highest score first.
    pub fn detect(&self, frame: &Frame) -> Vec<Face> {
        self.detect_batch(std::slice::from_ref(frame))
            .pop()
            .unwrap_or_default()
    }

    /// The faces of each frame. Frames of one size share the networks' batches.
    pub fn detect_batch(&self, frames: &[Frame]) -> Vec<Vec<Face>> {
        let mut out = vec![Vec::new(); frames.len()];
        let mut done = vec![false; frames.len()];
        for i in 0..frames.len() {
            if done[i] {
                continue;
            }
            let size = (frames[i].width, frames[i].height);
            let group: Vec<usize> = (i..frames.len())
                .filter(|&j| !done[j] && (frames[j].width, frames[j].height) == size)
                .collect();
            let refs: Vec<&Frame> = group.iter().map(|&j| &frames[j]).collect();
            for (&j, faces) in group.iter().zip(self.detect_same_size(&refs)) {
                done[j] = true;
                out[j] = faces;
            }
        }
        out
    }

    fn detect_same_size(&self, frames: &[&Frame]) -> Vec<Vec<Face>> {
        let n = frames.len();
        let (w, h) = (frames[0].width, frames[0].height);
        if w == 0 || h == 0 {
            return vec![Vec::new(); n];
        }
        let proposals = self.propose(frames);
        let refined = self.refine(frames, proposals);
        let faces = self.output(frames, refined);
        let mut per_frame = vec![Vec::new(); n];
        for (frame, face) in faces {
            per_frame[frame].push(face);
        }
        per_frame
    }

    /// Stage 1: P-Net over the pyramid, then box regression and squaring.
    fn propose(&self, frames: &[&Frame]) -> Vec<Candidate> {
        let n = frames.len();
        let (w, h) = (frames[0].width, frames[0].height);
        // (candidate, P-Net's regression) over all scales, after per-scale NMS.
        let mut all: Vec<(Candidate, [f32; 4])> = Vec::new();
        for scale in self.config.scales(w.min(h)) {
            // facenet-pytorch: int(h * scale + 1), int(w * scale + 1).
            let hs = (h as f64 * scale + 1.0) as usize;
            let ws = (w as f64 * scale + 1.0) as usize;
            let plane = 3 * hs * ws;
            let mut input = vec![0f32; n * plane];
            for (f, dst) in frames.iter().zip(input.chunks_exact_mut(plane)) {
                area_resize_into(f, 0, 0, w, h, ws, hs, dst);
            }
            let x = Tensor::<B, 4>::from_data(TensorData::new(input, [n, 3, hs, ws]), &self.device);
            let (reg, prob) = self.nets.pnet.forward(x);
            let [_, _, oh, ow] = reg.dims();
            let reg: Vec<f32> = reg.into_data().to_vec().expect("P-Net offsets are f32");
            let prob: Vec<f32> = prob.into_data().to_vec().expect("P-Net scores are f32");
            let cell = oh * ow;
            let scale32 = scale as f32;
            for frame in 0..n {
                let mut found: Vec<(Candidate, [f32; 4])> = Vec::new();
                for y in 0..oh {
                    for x in 0..ow {
                        let at = y * ow + x;
                        let score = prob[(frame * 2 + 1) * cell + at];
                        if score < self.config.thresholds[0] {
                            continue;
                        }
                        // generateBoundingBox: stride 2, cell 12, in f32 as torch computes.
                        let (xf, yf) = (x as f32, y as f32);
                        let bbox = [
                            ((2.0 * xf + 1.0) / scale32).floor(),
                            ((2.0 * yf + 1.0) / scale32).floor(),
                            ((2.0 * xf + 12.0) / scale32).floor(),
                            ((2.0 * yf + 12.0) / scale32).floor(),
                        ];
                        let r = std::array::from_fn(|k| reg[(frame * 4 + k) * cell + at]);
                        found.push((Candidate { frame, bbox, score }, r));
                    }
                }
                let boxes: Vec<[f32; 4]> = found.iter().map(|c| c.0.bbox).collect();
                let scores: Vec<f32> = found.iter().map(|c| c.0.score).collect();
                all.extend(
                    nms(&boxes, &scores, 0.5, Overlap::Union)
                        .into_iter()
                        .map(|k| found[k]),
                );
            }
        }
        let mut out = Vec::new();
        for frame in 0..n {
            let mine: Vec<&(Candidate, [f32; 4])> =
                all.iter().filter(|c| c.0.frame == frame).collect();
            let boxes: Vec<[f32; 4]> = mine.iter().map(|c| c.0.bbox).collect();
            let scores: Vec<f32> = mine.iter().map(|c| c.0.score).collect();
            for k in nms(&boxes, &scores, 0.7, Overlap::Union) {
                let (c, r) = *mine[k];
                // P-Net's regression is relative to the box size without the +1.
                let (bw, bh) = (c.bbox[2] - c.bbox[0], c.bbox[3] - c.bbox[1]);
                let bbox = [
                    c.bbox[0] + r[0] * bw,
                    c.bbox[1] + r[1] * bh,
                    c.bbox[2] + r[2] * bw,
                    c.bbox[3] + r[3] * bh,
                ];
                out.push(Candidate {
                    bbox: square(bbox),
                    ..c
                });
            }
        }
        out
    }

    /// Crops every candidate (clipped to the frame, as facenet-pytorch's `pad` does) and
    /// area-resizes it to `size²`; candidates whose crop is empty are dropped.
    fn crops(
        &self,
        frames: &[&Frame],
        cands: Vec<Candidate>,
        size: usize,
    ) -> (Vec<Candidate>, Tensor<B, 4>) {
        let plane = 3 * size * size;
        let mut kept = Vec::with_capacity(cands.len());
        let mut input = Vec::with_capacity(cands.len() * plane);
        for c in cands {
            let f = frames[c.frame];
            // trunc toward zero, then clip to 1..=w / 1..=h (1-based, MATLAB heritage).
            let x = (c.bbox[0].trunc() as i64).max(1);
            let y = (c.bbox[1].trunc() as i64).max(1);
            let ex = (c.bbox[2].trunc() as i64).min(f.width as i64);
            let ey = (c.bbox[3].trunc() as i64).min(f.height as i64);
            if ey < y || ex < x {
                continue;
            }
            let (x0, y0) = ((x - 1) as usize, (y - 1) as usize);
            let (cw, ch) = (ex as usize - x0, ey as usize - y0);
            let start = input.len();
            input.resize(start + plane, 0.0);
            area_resize_into(f, x0, y0, cw, ch, size, size, &mut input[start..]);
            kept.push(c);
        }
        let n = kept.len();
        let x = Tensor::from_data(TensorData::new(input, [n, 3, size, size]), &self.device);
        (kept, x)
    }

    /// Stage 2: R-Net rescoring, NMS, regression, squaring.
    fn refine(&self, frames: &[&Frame], cands: Vec<Candidate>) -> Vec<Candidate> {
        let (cands, x) = self.crops(frames, cands, 24);
        if cands.is_empty() {
            return cands;
        }
        let (reg, prob) = self.nets.rnet.forward(x);
        let reg: Vec<f32> = reg.into_data().to_vec().expect("R-Net offsets are f32");
        let prob: Vec<f32> = prob.into_data().to_vec().expect("R-Net scores are f32");
        let passed: Vec<(Candidate, [f32; 4])> = cands
            .iter()
            .enumerate()
            .filter(|&(i, _)| prob[i * 2 + 1] > self.config.thresholds[1])
            .map(|(i, c)| {
                let r = std::array::from_fn(|k| reg[i * 4 + k]);
                (
                    Candidate {
                        score: prob[i * 2 + 1],
                        ..*c
                    },
                    r,
                )
            })
            .collect();
        let mut out = Vec::new();
        for frame in 0..frames.len() {
            let mine: Vec<&(Candidate, [f32; 4])> =
                passed.iter().filter(|c| c.0.frame == frame).collect();
            let boxes: Vec<[f32; 4]> = mine.iter().map(|c| c.0.bbox).collect();
            let scores: Vec<f32> = mine.iter().map(|c| c.0.score).collect();
            for k in nms(&boxes, &scores, 0.7, Overlap::Union) {
                let (c, r) = *mine[k];
                out.push(Candidate {
                    bbox: square(regress(c.bbox, r)),
                    ..c
                });
            }
        }
        out
    }

    /// Stage 3: O-Net scores, landmarks and final boxes, NMS by the smaller area.
    fn output(&self, frames: &[&Frame], cands: Vec<Candidate>) -> Vec<(usize, Face)> {
        let (cands, x) = self.crops(frames, cands, 48);
        if cands.is_empty() {
            return Vec::new();
        }
        let (reg, points, prob) = self.nets.onet.forward(x);
        let reg: Vec<f32> = reg.into_data().to_vec().expect("O-Net offsets are f32");
        let points: Vec<f32> = points
            .into_data()
            .to_vec()
            .expect("O-Net landmarks are f32");
        let prob: Vec<f32> = prob.into_data().to_vec().expect("O-Net scores are f32");
        let passed: Vec<(usize, Face)> = cands
            .iter()
            .enumerate()
            .filter(|&(i, _)| prob[i * 2 + 1] > self.config.thresholds[2])
            .map(|(i, c)| {
                let b = c.bbox;
                // Landmarks are fractions of the (pre-regression) box, +1-pixel sizes.
                let (bw, bh) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
                let p = &points[i * 10..i * 10 + 10];
                let landmarks =
                    std::array::from_fn(|k| [bw * p[k] + b[0] - 1.0, bh * p[5 + k] + b[1] - 1.0]);
                let r = std::array::from_fn(|k| reg[i * 4 + k]);
                let face = Face {
                    bbox: regress(b, r),
                    score: prob[i * 2 + 1],
                    landmarks,
                };
                (c.frame, face)
            })
            .collect();
        let mut out = Vec::new();
        for frame in 0..frames.len() {
            let mine: Vec<&(usize, Face)> = passed.iter().filter(|c| c.0 == frame).collect();
            let boxes: Vec<[f32; 4]> = mine.iter().map(|c| c.1.bbox).collect();
            let scores: Vec<f32> = mine.iter().map(|c| c.1.score).collect();
            out.extend(
                nms(&boxes, &scores, 0.7, Overlap::Min)
                    .into_iter()
                    .map(|k| *mine[k]),
            );
        }
        out
    }
}

/// `bbreg`: R- and O-Net offsets are fractions of the box size with the +1 pixel.
fn regress(b: [f32; 4], r: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
    [
        b[0] + r[0] * w,
        b[1] + r[1] * h,
        b[2] + r[2] * w,
        b[3] + r[3] * h,
    ]
}

/// `rerec`: the square with the longer side, same centre.
fn square(b: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    let l = w.max(h);
    let x0 = b[0] + w * 0.5 - l * 0.5;
    let y0 = b[1] + h * 0.5 - l * 0.5;
    [x0, y0, x0 + l, y0 + l]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_matches_facenet_pytorch_for_256_pixels() {
        // detect_face on a 256² image: m = 0.6, levels while 256·m·0.709^k ≥ 12.
        let scales = DetectorConfig::default().scales(256);
        assert_eq!(scales.len(), 8);
        assert!((scales[0] - 0.6).abs() < 1e-12);
        assert!((scales[7] - 0.6 * 0.709f64.powi(7)).abs() < 1e-12);
        assert!(DetectorConfig::default().scales(19).is_empty());
    }

    #[test]
    fn square_keeps_the_centre_and_takes_the_longer_side() {
        assert_eq!(square([10.0, 20.0, 30.0, 60.0]), [0.0, 20.0, 40.0, 60.0]);
    }

    #[test]
    fn regression_scales_offsets_by_the_inclusive_size() {
        assert_eq!(
            regress([0.0, 0.0, 9.0, 19.0], [0.1, 0.1, -0.1, 0.5]),
            [1.0, 2.0, 8.0, 29.0]
        );
    }

    #[test]
    fn bad_settings_name_the_field() {
        let cfg = DetectorConfig {
            factor: 1.2,
            ..Default::default()
        };
        assert!(cfg.validate().unwrap_err().to_string().contains("`factor`"));
        let cfg = DetectorConfig {
            min_face_size: 2.0,
            ..Default::default()
        };
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("`min_face_size`")
        );
    }
}
