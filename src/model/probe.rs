//! Attention weights of one chosen encoder block, returned on request (for the TUI's
//! attention view and for research); the normal forward pass never computes them.

use burn::prelude::*;

use super::cross_self_block::CrossSelfWeights;

pub struct AttentionMaps<B: Backend> {
    /// Global block index (as in the released `blocks.N` keys).
    pub block: usize,
    /// 0-based stage of the block.
    pub stage: usize,
    /// Self-attention over the block's own tokens, [B, H, N, N].
    pub self_attention: Tensor<B, 4>,
    /// Cross-attention of a cross-self or reverse block, [B, H, Nq, Nk].
    pub cross_attention: Option<Tensor<B, 4>>,
    /// True when the block's queries are bottleneck tokens (cross-self blocks); false for
    /// stage-1 blocks and reverse blocks, whose queries are the full-resolution tokens.
    pub queries_are_bottleneck: bool,
    /// The stage's spatial-bottleneck assignment, [B·T_i, G, S] (softmax over S).
    pub bottleneck_assignment: Option<Tensor<B, 3>>,
}

impl<B: Backend> AttentionMaps<B> {
    pub(crate) fn plain(block: usize, stage: usize, self_attention: Tensor<B, 4>) -> Self {
        Self {
            block,
            stage,
            self_attention,
            cross_attention: None,
            queries_are_bottleneck: false,
            bottleneck_assignment: None,
        }
    }

    pub(crate) fn cross_self(
        block: usize,
        stage: usize,
        w: CrossSelfWeights<B>,
        queries_are_bottleneck: bool,
    ) -> Self {
        Self {
            block,
            stage,
            self_attention: w.own,
            cross_attention: Some(w.cross),
            queries_are_bottleneck,
            bottleneck_assignment: None,
        }
    }
}
