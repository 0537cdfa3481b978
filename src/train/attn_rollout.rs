//! Attention rollout (Abnar & Zuidema, 2020): how much each input token reaches the output
//! through a stack of self-attention blocks. Per block the head-averaged attention is mixed
//! with the residual path, Â = ½A + ½I, and the blocks are chained, R = Â_L ⋯ Â_1. SVFAP's
//! classifier mean-pools its tokens, so a token's relevance is the mean over queries of its
//! column of R, computed as a row vector pushed through the blocks from the last one
//! (O(L·N²) instead of the O(L·N³) product).

/// One block's self-attention `[heads, n, n]` (rows softmax-normalised), row-major.
pub struct BlockAttention<'a> {
    pub heads: usize,
    pub n: usize,
    pub weights: &'a [f32],
}

/// Relevance of each of the `n` tokens, blocks in forward order; sums to 1.
pub fn rollout(blocks: &[BlockAttention]) -> Vec<f32> {
    let Some(n) = blocks.first().map(|b| b.n) else {
        return Vec::new();
    };
    // v = (1/n)·1ᵀ, then v ← v·Â_l from the last block to the first.
    let mut v = vec![1.0f64 / n as f64; n];
    for b in blocks.iter().rev() {
        assert_eq!(b.n, n, "rollout needs the same tokens in every block");
        assert_eq!(b.weights.len(), b.heads * n * n, "[heads, n, n] weights");
        let mut next = vec![0f64; n];
        let scale = 0.5 / b.heads as f64;
        for h in 0..b.heads {
            for (i, &vi) in v.iter().enumerate() {
                let row = &b.weights[(h * n + i) * n..(h * n + i + 1) * n];
                for (acc, &a) in next.iter_mut().zip(row) {
                    *acc += vi * scale * a as f64;
                }
            }
        }
        for (acc, vi) in next.iter_mut().zip(&v) {
            *acc += 0.5 * vi;
        }
        v = next;
    }
    v.into_iter().map(|x| x as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, written out: R = Â_L ⋯ Â_1 with full matrices, then column means.
    fn by_definition(blocks: &[(usize, usize, Vec<f32>)]) -> Vec<f64> {
        let n = blocks[0].1;
        let mut r: Vec<f64> = (0..n * n)
            .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
            .collect();
        for (heads, _, w) in blocks {
            let mut a = vec![0f64; n * n];
            for h in 0..*heads {
                for k in 0..n * n {
                    a[k] += w[h * n * n + k] as f64 / *heads as f64;
                }
            }
            for (k, x) in a.iter_mut().enumerate() {
                *x = 0.5 * *x + if k / n == k % n { 0.5 } else { 0.0 };
            }
            // r ← a · r
            let mut next = vec![0f64; n * n];
            for i in 0..n {
                for j in 0..n {
                    next[i * n + j] = (0..n).map(|k| a[i * n + k] * r[k * n + j]).sum();
                }
            }
            r = next;
        }
        (0..n)
            .map(|j| (0..n).map(|i| r[i * n + j]).sum::<f64>() / n as f64)
            .collect()
    }

    fn softmax_rows(raw: &[f32], n: usize) -> Vec<f32> {
        raw.chunks(n)
            .flat_map(|row| {
                let m = row.iter().cloned().fold(f32::MIN, f32::max);
                let e: Vec<f32> = row.iter().map(|x| (x - m).exp()).collect();
                let s: f32 = e.iter().sum();
                e.into_iter().map(move |x| x / s)
            })
            .collect()
    }

    #[test]
    fn the_vector_form_equals_the_matrix_product_and_sums_to_one() {
        let (heads, n) = (3, 5);
        let blocks: Vec<(usize, usize, Vec<f32>)> = (0..4)
            .map(|l| {
                let raw: Vec<f32> = (0..heads * n * n)
                    .map(|k| ((k * 7 + l * 13) % 11) as f32 * 0.4 - 2.0)
                    .collect();
                (heads, n, softmax_rows(&raw, n))
            })
            .collect();
        let views: Vec<BlockAttention> = blocks
            .iter()
            .map(|(heads, n, w)| BlockAttention {
                heads: *heads,
                n: *n,
                weights: w,
            })
            .collect();
        let fast = rollout(&views);
        let slow = by_definition(&blocks);
        for (a, b) in fast.iter().zip(&slow) {
            assert!((*a as f64 - b).abs() < 1e-6, "{fast:?} vs {slow:?}");
        }
        assert!((fast.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn attention_that_only_looks_at_token_0_makes_it_the_most_relevant() {
        let n = 4;
        let mut w = vec![0f32; n * n];
        for i in 0..n {
            w[i * n] = 1.0;
        }
        let r = rollout(&[BlockAttention {
            heads: 1,
            n,
            weights: &w,
        }]);
        // ½·(1/n)·I + ½·column 0: token 0 gets ½ + ⅛, the others ⅛.
        assert!(
            (r[0] - 0.625).abs() < 1e-6 && (r[1] - 0.125).abs() < 1e-6,
            "{r:?}"
        );
    }
}
