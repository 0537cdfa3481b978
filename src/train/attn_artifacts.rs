//! Attention maps of a fine-tuned model (`attn/step-N/`, DESIGN §3) for one fixed held-out
//! clip: the self- and cross-attention of chosen blocks (first and last stage-1 block, and
//! each later stage's first cross-self block and reverse block) and each later stage's
//! spatial-bottleneck assignment, as float32 `.npy` arrays plus `meta.json`.

use anyhow::Result;
use burn::prelude::*;

use crate::model::SvfapClassifier;
use crate::npy;
use crate::session::RunDir;
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

pub fn write_attention_maps<B: Backend>(
    model: &SvfapClassifier<B>,
    clip: &[f32],
    step: u64,
    run: &RunDir,
) -> Result<()> {
    let e = &model.config.encoder;
    let device = model.fc_norm.gamma.val().device();
    let video = Tensor::<B, 5>::from_data(
        TensorData::new(
            clip.to_vec(),
            [1, e.in_chans, e.frames, e.img_size, e.img_size],
        ),
        &device,
    );
    let dir = run.attn_step(step);
    let partial = crate::session::partial_dir::PartialDir::create(&dir, &run.root)?;
    let grid = e.grid();
    let mut maps = Vec::new();
    let save = |name: String, values: Vec<f32>, shape: Vec<usize>| -> Result<String> {
        npy::write_f32(&dir.join(&name), &shape, &values)?;
        Ok(name)
    };
    for block in probed_blocks(&e.stage_depths) {
        let Some(a) = model.forward_probed(video.clone(), Some(block)).attention else {
            continue;
        };
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
        let as_vec = |x: Tensor<B, 4>| {
            x.into_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .expect("f32")
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
    // meta.json last: a reader never sees a step without its arrays.
    AttnMeta {
        format: 1,
        step,
        maps,
    }
    .write(&dir)?;
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
