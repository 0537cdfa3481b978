//! The TPSBT trunk (paper §3.2, Fig. 2): stage 1 = plain ViT blocks on all tokens; each
//! later stage = temporal pyramid (halve T) → spatial bottleneck (S positions → G tokens per
//! slice) → (depth − 1) cross-self blocks on the bottleneck tokens → one reverse block that
//! restores the full spatial resolution by attending from the full tokens to the bottleneck.
//!
//! The same trunk runs on every token (fine-tuning) or on the visible tokens of a tube mask
//! (pre-training): a tube mask keeps the same spatial positions in every time slice, so the
//! visible tokens still form a [T, S_visible] grid.

use burn::module::Param;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::prelude::*;

use super::block::Block;
use super::config::EncoderConfig;
use super::cross_self_block::CrossSelfBlock;
use super::init::ParamInit;
use super::patch_embed::PatchEmbed;
use super::probe::AttentionMaps;
use super::spatial_attention::SpatialAttention;
use super::temporal_downsample::temporal_downsample;

/// One entry of the released `blocks` list: stage-1 blocks are plain, later ones cross-self.
/// (Unboxed: burn's `Module` derive needs the variants inline; the list is built once.)
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum EncoderBlock<B: Backend> {
    Plain(Block<B>),
    CrossSelf(CrossSelfBlock<B>),
}

impl<B: Backend> EncoderBlock<B> {
    fn plain(&self) -> &Block<B> {
        match self {
            Self::Plain(block) => block,
            Self::CrossSelf(_) => unreachable!("stage-1 blocks are built plain"),
        }
    }
    fn cross_self(&self) -> &CrossSelfBlock<B> {
        match self {
            Self::CrossSelf(block) => block,
            Self::Plain(_) => unreachable!("later-stage blocks are built cross-self"),
        }
    }
}

#[derive(Module, Debug)]
pub struct Tpsbt<B: Backend> {
    pub patch_embed: PatchEmbed<B>,
    pub blocks: Vec<EncoderBlock<B>>,
    pub temporal_downsamples: Vec<Conv1d<B>>,
    pub spatial_downsamples: Vec<SpatialAttention<B>>,
    pub config: EncoderConfig,
}

/// What the trunk returns: each stage's output at full spatial resolution, [B, T_i·S, C].
pub struct StageOutputs<B: Backend> {
    pub stages: Vec<Tensor<B, 3>>,
    pub attention: Option<AttentionMaps<B>>,
}

impl<B: Backend> Tpsbt<B> {
    pub fn new(cfg: &EncoderConfig, init: &mut ParamInit, device: &B::Device) -> Self {
        let c = cfg.width;
        let patch_embed = PatchEmbed::new(init, cfg, device);
        // Stochastic depth decays linearly over all blocks (timm rule).
        let total = cfg.num_blocks();
        let rate = |i: usize| {
            if total > 1 {
                cfg.drop_path * i as f64 / (total - 1) as f64
            } else {
                0.0
            }
        };
        let mut blocks = Vec::with_capacity(total);
        let mut temporal_downsamples = Vec::new();
        let mut spatial_downsamples = Vec::new();
        for (stage, &depth) in cfg.stage_depths.iter().enumerate() {
            if stage > 0 {
                let k = cfg.temporal_kernel;
                let mut conv = Conv1dConfig::new(c, c, k).with_stride(k).init(device);
                conv.weight = Param::from_tensor(init.conv_weight([c, c, k], device));
                conv.bias = Some(Param::from_tensor(init.conv_bias(c, c * k, device)));
                temporal_downsamples.push(conv);
                let g = cfg.stage_bottleneck_tokens(stage);
                spatial_downsamples.push(SpatialAttention::new(
                    init,
                    c,
                    cfg.bottleneck_hidden,
                    g,
                    device,
                ));
            }
            for _ in 0..depth {
                let dp = rate(blocks.len());
                blocks.push(if stage == 0 {
                    EncoderBlock::Plain(Block::new(init, c, cfg.heads, cfg.mlp_ratio, dp, device))
                } else {
                    EncoderBlock::CrossSelf(CrossSelfBlock::new(
                        init,
                        c,
                        cfg.heads,
                        cfg.mlp_ratio,
                        dp,
                        device,
                    ))
                });
            }
        }
        Self {
            patch_embed,
            blocks,
            temporal_downsamples,
            spatial_downsamples,
            config: cfg.clone(),
        }
    }

    /// Runs the stages on tokens [B, T0·S, C] (t-major, positions already added) where S is
    /// the number of spatial positions kept per slice. `probe` names a block whose attention
    /// weights to return; `None` takes the fast path.
    pub fn forward_stages(&self, tokens: Tensor<B, 3>, probe: Option<usize>) -> StageOutputs<B> {
        let (stages, mut maps) = self.forward_probing(tokens, probe.as_slice());
        StageOutputs {
            stages,
            attention: maps.pop(),
        }
    }

    /// Like [`Self::forward_stages`], keeping the attention of every block in `probes` from
    /// one pass (in block order). A later stage's bottleneck assignment goes with the last
    /// probed block of that stage.
    pub fn forward_probing(
        &self,
        tokens: Tensor<B, 3>,
        probes: &[usize],
    ) -> (Vec<Tensor<B, 3>>, Vec<AttentionMaps<B>>) {
        let cfg = &self.config;
        let mut x = tokens;
        let mut slices = cfg.temporal_len();
        let mut block = 0;
        let mut stages = Vec::with_capacity(cfg.num_stages());
        let mut maps: Vec<AttentionMaps<B>> = Vec::new();
        for (stage, &depth) in cfg.stage_depths.iter().enumerate() {
            if stage == 0 {
                for _ in 0..depth {
                    let probed = probes.contains(&block);
                    let (out, w) = self.blocks[block].plain().forward(x, probed);
                    x = out;
                    if let Some(w) = w {
                        maps.push(AttentionMaps::plain(block, stage, w));
                    }
                    block += 1;
                }
            } else {
                x = temporal_downsample(&self.temporal_downsamples[stage - 1], x, slices);
                slices /= cfg.temporal_kernel;
                let full = x;
                let (mut bottleneck, assignment) =
                    self.spatial_downsamples[stage - 1].forward(full.clone(), slices);
                let maps_before = maps.len();
                for _ in 0..depth - 1 {
                    let probed = probes.contains(&block);
                    let (out, w) =
                        self.blocks[block]
                            .cross_self()
                            .forward(bottleneck, full.clone(), probed);
                    bottleneck = out;
                    if let Some(w) = w {
                        maps.push(AttentionMaps::cross_self(block, stage, w, true));
                    }
                    block += 1;
                }
                // Reverse block: the full tokens query the bottleneck tokens (the released
                // pre-training code passes the raw patch embedding here instead: DESIGN bug 1).
                let probed = probes.contains(&block);
                let (out, w) = self.blocks[block]
                    .cross_self()
                    .forward(full, bottleneck, probed);
                x = out;
                if let Some(w) = w {
                    maps.push(AttentionMaps::cross_self(block, stage, w, false));
                }
                block += 1;
                if maps.len() > maps_before
                    && let Some(last) = maps.last_mut()
                {
                    last.bottleneck_assignment = Some(assignment);
                }
            }
            stages.push(x.clone());
        }
        (stages, maps)
    }
}

/// Repeats each of a stage's time slices so it has `target_slices` again (nearest in time):
/// [B, T_i·S, C] → [B, T0·S, C]. Uses the stage's own length (released bug 2 splits with the
/// pre-downsampling length).
pub fn upsample_in_time<B: Backend>(
    x: Tensor<B, 3>,
    slices: usize,
    target_slices: usize,
) -> Tensor<B, 3> {
    if slices == target_slices {
        return x;
    }
    let [b, n, c] = x.dims();
    let s = n / slices;
    let factor = target_slices / slices;
    x.reshape([b, slices, 1, s, c])
        .repeat_dim(2, factor)
        .reshape([b, target_slices * s, c])
}
