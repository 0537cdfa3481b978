//! Attention maps (`attn/step-N/`, DESIGN §3) of one fixed held-out clip, for fine-tuning and
//! pre-training alike (the encoder is the same): the self- and cross-attention of chosen
//! blocks (first and last stage-1 block, and each later stage's first cross-self block and
//! reverse block), each later stage's spatial-bottleneck assignment, the attention rollout
//! over the stage-1 blocks, as float32 `.npy` arrays; the clip's frames as PNGs, so that a
//! reader draws the maps over the frames they were computed on; `meta.json` last.

use std::path::Path;

use anyhow::Result;
use burn::prelude::*;

use super::attn_rollout::{BlockAttention, rollout};
use crate::cpu_kernels::tubes::tubes_channel_major;
use crate::model::encoder::Tpsbt;
use crate::model::probe::AttentionMaps;
use crate::model::sinusoid::PositionTable;
use crate::npy;
use crate::session::artifacts::{AttnMap, AttnMeta};

/// Blocks whose maps are written: first and last of stage 1, then per later stage its
/// first block (queries: bottleneck tokens) and its reverse block (queries: full tokens).
fn probed_blocks(depths: &[usize]) -> Vec<usize> {
    let mut blocks = vec![0, depths[0] - 1];
    let mut start = depths[0];
    for &d in &depths[1..] {
        blocks.push(start);
        blocks.push(start + d - 1);
        start += d;
    }
    blocks.dedup();
    blocks
}

/// The encoder of a classifier or a pre-trainer, with its position table.
pub struct ProbedEncoder<'a, B: Backend> {
    pub encoder: &'a Tpsbt<B>,
    pub positions: &'a PositionTable,
}

impl<B: Backend> ProbedEncoder<'_, B> {
    /// The whole clip (no masking) through the encoder once, keeping the attention of the
    /// blocks in `blocks`.
    fn attention(&self, video: &Tensor<B, 5>, blocks: &[usize]) -> Vec<AttentionMaps<B>> {
        let e = &self.encoder.config;
        let device = video.device();
        let tubes = tubes_channel_major(video.clone(), e.tubelet, e.patch);
        let tokens =
            self.encoder.patch_embed.forward(tubes) + self.positions.tensor(&device).unsqueeze();
        self.encoder.forward_probing(tokens, blocks).1
    }
}

/// Writes the maps of `clip` into `dir` (created; `owner`, the run or inspection folder
/// it belongs to, must exist), `meta.json` last.
pub fn write_attention_maps<B: Backend>(
    model: ProbedEncoder<B>,
    clip: &[f32],
    step: u64,
    (dir, owner): (&Path, &Path),
    device: &B::Device,
) -> Result<()> {
    let e = &model.encoder.config;
    let video = Tensor::<B, 5>::from_data(
        TensorData::new(
            clip.to_vec(),
            [1, e.in_chans, e.frames, e.img_size, e.img_size],
        ),
        device,
    );
    let partial = crate::session::partial_dir::PartialDir::create(dir, owner)?;
    let grid = e.grid();
    let mut maps = Vec::new();
    let save = |name: String, values: Vec<f32>, shape: Vec<usize>| -> Result<String> {
        npy::write_f32(&dir.join(&name), &shape, &values)?;
        Ok(name)
    };
    let as_vec = |x: Tensor<B, 4>| {
        x.into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .expect("f32")
    };
    let probed = probed_blocks(&e.stage_depths);
    // Every stage-1 block's self-attention (for the rollout) and the probed blocks', from
    // one forward pass.
    let wanted: Vec<usize> = (0..e.stage_depths[0])
        .chain(probed.iter().copied())
        .collect();
    let mut stage1: Vec<(usize, usize, Vec<f32>)> = Vec::new();
    for a in model.attention(&video, &wanted) {
        let block = a.block;
        if block < e.stage_depths[0] {
            let dims = a.self_attention.dims();
            stage1.push((dims[1], dims[2], as_vec(a.self_attention.clone())));
        }
        if !probed.contains(&block) {
            continue;
        }
        let t = e.stage_temporal_len(a.stage);
        let full = vec![t, grid, grid];
        let bottleneck = if a.stage > 0 {
            vec![t, e.stage_bottleneck_tokens(a.stage), 1]
        } else {
            full.clone()
        };
        let (query_grid, key_grid) = if a.queries_are_bottleneck {
            (&bottleneck, &full)
        } else {
            (&full, &bottleneck)
        };
        let queries = if a.queries_are_bottleneck {
            "bottleneck"
        } else {
            "full"
        };
        let self_shape = a.self_attention.dims()[1..].to_vec();
        let file = save(
            format!("b{block:02}_self.npy"),
            as_vec(a.self_attention),
            self_shape.clone(),
        )?;
        maps.push(AttnMap {
            block,
            stage: a.stage,
            kind: "self".into(),
            heads: self_shape[0],
            shape: self_shape,
            file,
            queries: queries.into(),
            grid: query_grid.clone(),
        });
        if let Some(cross) = a.cross_attention {
            let shape = cross.dims()[1..].to_vec();
            let file = save(
                format!("b{block:02}_cross.npy"),
                as_vec(cross),
                shape.clone(),
            )?;
            maps.push(AttnMap {
                block,
                stage: a.stage,
                kind: "cross".into(),
                heads: shape[0],
                shape,
                file,
                queries: queries.into(),
                grid: key_grid.clone(),
            });
        }
        if let Some(assignment) = a.bottleneck_assignment {
            let shape = assignment.dims().to_vec();
            let values = assignment
                .into_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .expect("f32");
            let file = save(format!("b{block:02}_assignment.npy"), values, shape.clone())?;
            maps.push(AttnMap {
                block,
                stage: a.stage,
                kind: "assignment".into(),
                heads: 0,
                shape,
                file,
                queries: "bottleneck".into(),
                grid: full.clone(),
            });
        }
    }
    if !stage1.is_empty() {
        let views: Vec<BlockAttention> = stage1
            .iter()
            .map(|(heads, n, w)| BlockAttention {
                heads: *heads,
                n: *n,
                weights: w,
            })
            .collect();
        let relevance = rollout(&views);
        let n = relevance.len();
        let file = save("rollout.npy".into(), relevance, vec![1, 1, n])?;
        maps.push(AttnMap {
            block: stage1.len() - 1,
            stage: 0,
            kind: "rollout".into(),
            heads: 1,
            shape: vec![1, 1, n],
            file,
            queries: "full".into(),
            grid: vec![e.stage_temporal_len(0), grid, grid],
        });
    }
    // The frames the maps were computed on.
    let (t, size) = (e.frames, e.img_size);
    let mut frames = Vec::with_capacity(t);
    for (f, rgb) in super::recon_artifacts::to_rgb(clip, t, size, size)
        .iter()
        .enumerate()
    {
        let name = format!("frame-{f:02}.png");
        image::save_buffer(
            dir.join(&name),
            rgb,
            size as u32,
            size as u32,
            image::ColorType::Rgb8,
        )?;
        frames.push(name);
    }
    // meta.json last: a reader never sees a step without its arrays.
    AttnMeta {
        format: 1,
        step,
        maps,
        frames,
    }
    .write(dir)?;
    partial.keep();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_cover_both_ends_of_every_stage() {
        assert_eq!(probed_blocks(&[12, 6, 3]), vec![0, 11, 12, 17, 18, 20]);
        assert_eq!(probed_blocks(&[2, 2, 2]), vec![0, 1, 2, 3, 4, 5]);
    }
}
