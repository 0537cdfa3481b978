//! Reconstruction samples (`recon/step-N/`, DESIGN §3): for fixed held-out clips and fixed
//! tube masks (so steps are comparable), the original, masked and reconstructed frames as
//! PNG, predictions turned back into pixels per tube, and each sample's error.

use anyhow::Result;
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::model::pixel_norm::{IMAGENET_MEAN, IMAGENET_STD};
use crate::model::target::predictions_to_pixels;
use crate::model::{SvfapPretrainer, TubeMask};
use crate::session::RunDir;
use crate::session::artifacts::{ReconKind, ReconMeta, ReconSample};

/// Grey shown where a tube is masked.
const MASKED_GREY: u8 = 128;

/// Writes the reconstructions of `clips` (normalised [3, T, H, W] each) at `step`.
pub fn write_reconstructions<B: Backend>(
    model: &SvfapPretrainer<B>,
    clips: &[(String, Vec<f32>)],
    step: u64,
    run: &RunDir,
) -> Result<()> {
    if clips.is_empty() {
        return Ok(());
    }
    let cfg = &model.config;
    let e = &cfg.encoder;
    let (c, t, h, w) = (e.in_chans, e.frames, e.img_size, e.img_size);
    let device = model.mask_token.val().device();
    let n = clips.len();
    let data: Vec<f32> = clips.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let video = Tensor::<B, 5>::from_data(TensorData::new(data.clone(), [n, c, t, h, w]), &device);
    // The same masks at every step: seeded by the sample index only.
    let masks: Vec<TubeMask> = (0..n)
        .map(|i| {
            TubeMask::random(
                e.spatial_len(),
                cfg.masked_per_slice(),
                &mut StdRng::seed_from_u64(0x5EC0 + i as u64),
            )
        })
        .collect();
    let out = model.loss(video, &masks);
    let to_vec = |x: Tensor<B, 3>| {
        x.into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .expect("f32")
    };
    let (pred, pixels, targets) = (
        to_vec(out.predictions),
        to_vec(out.masked_pixels),
        to_vec(out.targets),
    );
    let tube = e.patch_dim();
    let recon = predictions_to_pixels(&pred, &pixels, tube, cfg.target);
    let per_clip = pred.len() / n;
    let dir = run.recon_step(step);
    let partial = crate::session::partial_dir::PartialDir::create(&dir, &run.root)?;
    let mut samples = Vec::with_capacity(n);
    for (i, (name, _)) in clips.iter().enumerate() {
        let clip = &data[i * c * t * h * w..(i + 1) * c * t * h * w];
        let original = to_rgb(clip, t, h, w);
        let mut masked = original.clone();
        let mut reconstructed = original.clone();
        let tubes = &recon[i * per_clip..(i + 1) * per_clip];
        paint_tubes(&mut masked, &masks[i], None, e.tubelet, e.patch, t, h, w);
        paint_tubes(
            &mut reconstructed,
            &masks[i],
            Some(tubes),
            e.tubelet,
            e.patch,
            t,
            h,
            w,
        );
        for (kind, frames) in [
            (ReconKind::Original, &original),
            (ReconKind::Masked, &masked),
            (ReconKind::Recon, &reconstructed),
        ] {
            for (f, frame) in frames.iter().enumerate() {
                image::save_buffer(
                    ReconMeta::frame_file(&dir, i, kind, f),
                    frame,
                    w as u32,
                    h as u32,
                    image::ColorType::Rgb8,
                )?;
            }
        }
        let (p, q) = (
            &pred[i * per_clip..(i + 1) * per_clip],
            &targets[i * per_clip..(i + 1) * per_clip],
        );
        let mse = p
            .iter()
            .zip(q)
            .map(|(a, b)| ((a - b) as f64).powi(2))
            .sum::<f64>()
            / p.len() as f64;
        samples.push(ReconSample {
            index: i,
            source: name.clone(),
            mse,
        });
    }
    // meta.json last: a reader never sees a step without its images.
    ReconMeta {
        format: 1,
        step,
        mask_ratio: cfg.mask_ratio,
        frames: t,
        samples,
    }
    .write(&dir)?;
    partial.keep();
    Ok(())
}

/// Normalised [3, T, H, W] → T frames of RGB bytes.
pub(super) fn to_rgb(clip: &[f32], t: usize, h: usize, w: usize) -> Vec<Vec<u8>> {
    (0..t)
        .map(|f| {
            let mut frame = Vec::with_capacity(h * w * 3);
            for y in 0..h {
                for x in 0..w {
                    for ch in 0..3 {
                        let v = clip[((ch * t + f) * h + y) * w + x] * IMAGENET_STD[ch]
                            + IMAGENET_MEAN[ch];
                        frame.push((v.clamp(0.0, 1.0) * 255.0).round() as u8);
                    }
                }
            }
            frame
        })
        .collect()
}

/// Fills the masked tubes: grey, or the given tube pixels ([T'·M, (dt, dy, dx, c)], [0, 1]).
#[allow(clippy::too_many_arguments)]
fn paint_tubes(
    frames: &mut [Vec<u8>],
    mask: &TubeMask,
    tubes: Option<&[f32]>,
    tubelet: usize,
    patch: usize,
    t: usize,
    _h: usize,
    w: usize,
) {
    let grid_w = w / patch;
    let tube_len = tubelet * patch * patch * 3;
    let mut index = 0;
    for slice in 0..t / tubelet {
        for &s in &mask.masked {
            let (y0, x0) = ((s / grid_w) * patch, (s % grid_w) * patch);
            let values = tubes.map(|v| &v[index * tube_len..(index + 1) * tube_len]);
            let mut k = 0;
            for dt in 0..tubelet {
                let frame = &mut frames[slice * tubelet + dt];
                for dy in 0..patch {
                    for dx in 0..patch {
                        let at = ((y0 + dy) * w + x0 + dx) * 3;
                        for ch in 0..3 {
                            frame[at + ch] = match values {
                                Some(v) => (v[k].clamp(0.0, 1.0) * 255.0).round() as u8,
                                None => MASKED_GREY,
                            };
                            k += 1;
                        }
                    }
                }
            }
            index += 1;
        }
    }
}
