//! Pre-training model (paper §3.1, Fig. 1; released `PretrainVisionTransformer`, with its
//! bugs 1 and 2 fixed, DESIGN §5): the encoder embeds and processes only the visible tubes;
//! the stages are fused X1 + up(X2) + up(X3) → LN; a Linear maps to the decoder width; the
//! decoder sees [visible + pos; mask token + pos] and predicts the masked tubes' pixels.

use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;

use super::config::PretrainerConfig;
use super::decoder::MaeDecoder;
use super::encoder::{Tpsbt, upsample_in_time};
use super::init::{LinearInit, ParamInit, layer_norm};
use super::norm::normalize;
use super::probe::AttentionMaps;
use super::sinusoid::PositionTable;
use super::target::{masked_tube_pixels, mse, reconstruction_targets};
use super::tube_mask::TubeMask;
use crate::cpu_kernels::tubes::tubes_channel_major;

#[derive(Module, Debug)]
pub struct SvfapPretrainer<B: Backend> {
    pub encoder: Tpsbt<B>,
    /// Released key `encoder.norm`.
    pub encoder_norm: LayerNorm<B>,
    pub encoder_to_decoder: Linear<B>,
    pub mask_token: Param<Tensor<B, 3>>,
    pub decoder: MaeDecoder<B>,
    pub config: PretrainerConfig,
    pub encoder_positions: PositionTable,
    pub decoder_positions: PositionTable,
}

pub struct PretrainOutput<B: Backend> {
    /// Predicted masked tubes [B, T0·M, P·3], t-major, masked positions ascending.
    pub predictions: Tensor<B, 3>,
    pub attention: Option<AttentionMaps<B>>,
}

/// One pre-training step's forward result.
pub struct PretrainLoss<B: Backend> {
    pub loss: Tensor<B, 1>,
    pub predictions: Tensor<B, 3>,
    pub targets: Tensor<B, 3>,
    /// The masked tubes' original pixels [B, T0·M, P·3] in [0, 1].
    pub masked_pixels: Tensor<B, 3>,
}

/// Flat row indices of a batch of tube masks.
struct MaskIndices {
    /// Rows of [B·N] for visible tokens, clip offsets included.
    visible_rows: Vec<i64>,
    /// Position-table rows (no clip offset).
    visible_pos: Vec<i64>,
    masked_pos: Vec<i64>,
    visible_per_clip: usize,
    masked_per_clip: usize,
}

impl<B: Backend> SvfapPretrainer<B> {
    /// A freshly initialised pre-trainer (released init: xavier_uniform Linears, zero
    /// biases, mask token trunc_normal(0.02) within ±0.02).
    pub fn new(config: &PretrainerConfig, seed: u64, device: &B::Device) -> Self {
        let mut init = ParamInit::new(seed, LinearInit::XavierUniform);
        let enc = &config.encoder;
        let dec = &config.decoder;
        let encoder = Tpsbt::new(enc, &mut init, device);
        let decoder = MaeDecoder::new(dec, enc.mlp_ratio, enc.patch_dim(), &mut init, device);
        Self {
            encoder,
            encoder_norm: layer_norm(enc.width, device),
            encoder_to_decoder: init.linear(enc.width, dec.width, false, device),
            mask_token: Param::from_tensor(init.trunc_normal(
                [1, 1, dec.width],
                0.02,
                0.02,
                device,
            )),
            decoder,
            config: config.clone(),
            encoder_positions: PositionTable::new(enc.num_tokens(), enc.width),
            decoder_positions: PositionTable::new(enc.num_tokens(), dec.width),
        }
    }

    fn mask_indices(&self, masks: &[TubeMask]) -> MaskIndices {
        let enc = &self.config.encoder;
        let (t, s, n) = (enc.temporal_len(), enc.spatial_len(), enc.num_tokens());
        let (v, m) = (masks[0].visible.len(), masks[0].masked.len());
        for (i, mask) in masks.iter().enumerate() {
            assert!(
                mask.spatial_len() == s && mask.visible.len() == v,
                "tube mask {i} has {} visible of {} positions; the batch needs {v} of {s}",
                mask.visible.len(),
                mask.spatial_len()
            );
        }
        let rows = |pick: fn(&TubeMask) -> &Vec<usize>, offset: bool| -> Vec<i64> {
            masks
                .iter()
                .enumerate()
                .flat_map(|(b, mask)| {
                    TubeMask::token_indices(pick(mask), t, s, if offset { b * n } else { 0 })
                })
                .collect()
        };
        MaskIndices {
            visible_rows: rows(|m| &m.visible, true),
            visible_pos: rows(|m| &m.visible, false),
            masked_pos: rows(|m| &m.masked, false),
            visible_per_clip: t * v,
            masked_per_clip: t * m,
        }
    }

    /// `video`: normalised clips [B, 3, T, H, W]; `masks`: one tube mask per clip, all with
    /// the same number of masked positions.
    pub fn forward(&self, video: Tensor<B, 5>, masks: &[TubeMask]) -> PretrainOutput<B> {
        self.forward_probed(video, masks, None)
    }

    pub fn forward_probed(
        &self,
        video: Tensor<B, 5>,
        masks: &[TubeMask],
        probe: Option<usize>,
    ) -> PretrainOutput<B> {
        let idx = self.mask_indices(masks);
        self.forward_indexed(video, &idx, probe)
    }

    fn forward_indexed(
        &self,
        video: Tensor<B, 5>,
        idx: &MaskIndices,
        probe: Option<usize>,
    ) -> PretrainOutput<B> {
        let enc = &self.config.encoder;
        let device = video.device();
        let b = video.dims()[0];
        let index = |rows: &Vec<i64>| {
            Tensor::<B, 1, Int>::from_data(TensorData::new(rows.clone(), [rows.len()]), &device)
        };
        let (nv, nm) = (idx.visible_per_clip, idx.masked_per_clip);

        // Embed only the visible tubes.
        let tubes = tubes_channel_major(video, enc.tubelet, enc.patch);
        let [_, n, d] = tubes.dims();
        let visible_tubes = tubes
            .reshape([b * n, d])
            .select(0, index(&idx.visible_rows))
            .reshape([b, nv, d]);
        let visible_pos = index(&idx.visible_pos);
        let enc_pos = self
            .encoder_positions
            .tensor::<B>(&device)
            .select(0, visible_pos.clone());
        let tokens =
            self.encoder.patch_embed.forward(visible_tubes) + enc_pos.reshape([b, nv, enc.width]);

        let out = self.encoder.forward_stages(tokens, probe);
        let t0 = enc.temporal_len();
        let upsampled = |stage: usize| {
            upsample_in_time(out.stages[stage].clone(), enc.stage_temporal_len(stage), t0)
        };
        let fused = if self.config.fuse_multiscale {
            (1..out.stages.len()).fold(upsampled(0), |acc, stage| acc + upsampled(stage))
        } else {
            upsampled(out.stages.len() - 1)
        };
        let latent = self
            .encoder_to_decoder
            .forward(normalize(&self.encoder_norm, fused));

        let dw = self.config.decoder.width;
        let dec_pos = self.decoder_positions.tensor::<B>(&device);
        let vis = latent + dec_pos.clone().select(0, visible_pos).reshape([b, nv, dw]);
        let masked = self.mask_token.val().repeat_dim(0, b).repeat_dim(1, nm)
            + dec_pos
                .select(0, index(&idx.masked_pos))
                .reshape([b, nm, dw]);
        let predictions = self.decoder.forward(Tensor::cat(vec![vis, masked], 1), nm);
        PretrainOutput {
            predictions,
            attention: out.attention,
        }
    }

    /// Forward pass plus targets and masked-tube MSE.
    pub fn loss(&self, video: Tensor<B, 5>, masks: &[TubeMask]) -> PretrainLoss<B> {
        let enc = &self.config.encoder;
        let idx = self.mask_indices(masks);
        let device = video.device();
        let dims = video.dims();
        let clips = video
            .to_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .expect("f32 clips");
        let pixels = masked_tube_pixels(&clips, dims, masks, enc.tubelet, enc.patch);
        let targets = reconstruction_targets(&pixels, enc.patch_dim(), self.config.target);
        let shape = [dims[0], idx.masked_per_clip, enc.patch_dim()];
        let upload = |v: Vec<f32>| Tensor::<B, 3>::from_data(TensorData::new(v, shape), &device);
        let (masked_pixels, targets) = (upload(pixels), upload(targets));
        let predictions = self.forward_indexed(video, &idx, None).predictions;
        PretrainLoss {
            loss: mse(predictions.clone(), targets.clone()),
            predictions,
            targets,
            masked_pixels,
        }
    }
}
