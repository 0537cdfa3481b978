//! Per-parameter learning-rate scale and weight decay (released `optim_factory.py`):
//! no weight decay on biases and other 1-D parameters (and the mask token); layer-wise lr
//! decay for fine-tuning with scale decay^(L + 1 − layer_id), where `patch_embed` is layer 0,
//! `blocks.i` is layer i + 1, and everything else — `fc_norm`, `head`, and, as in the
//! released code, the temporal and spatial downsampling modules — is layer L + 1.

/// How one parameter is optimised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamRule {
    pub lr_scale: f64,
    pub weight_decay: f64,
}

/// Rule for the parameter at released key `key` with `rank` dimensions.
/// `layer_decay` = None turns layer-wise decay off (pre-training).
pub fn param_rule(
    key: &str,
    rank: usize,
    num_blocks: usize,
    layer_decay: Option<f64>,
    weight_decay: f64,
) -> ParamRule {
    let no_decay = rank <= 1 || key.ends_with(".bias") || key == "mask_token";
    let lr_scale = match layer_decay {
        None => 1.0,
        Some(decay) => decay.powi((num_blocks + 1 - layer_id(key, num_blocks)) as i32),
    };
    ParamRule {
        lr_scale,
        weight_decay: if no_decay { 0.0 } else { weight_decay },
    }
}

fn layer_id(key: &str, num_blocks: usize) -> usize {
    let key = key.strip_prefix("encoder.").unwrap_or(key);
    if key.starts_with("patch_embed") {
        0
    } else if let Some(rest) = key.strip_prefix("blocks.") {
        rest.split('.')
            .next()
            .and_then(|i| i.parse::<usize>().ok())
            .map_or(num_blocks + 1, |i| i + 1)
    } else {
        num_blocks + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_decay_follows_the_released_assigner() {
        // base: 21 blocks, decay 0.75.
        let r = |k: &str, rank| param_rule(k, rank, 21, Some(0.75), 0.05);
        assert_eq!(r("patch_embed.proj.weight", 5).lr_scale, 0.75f64.powi(22));
        assert_eq!(r("blocks.0.attn.qkv.weight", 2).lr_scale, 0.75f64.powi(21));
        assert_eq!(r("blocks.20.mlp.fc1.weight", 2).lr_scale, 0.75);
        assert_eq!(r("head.weight", 2).lr_scale, 1.0);
        assert_eq!(r("temporal_downsamples.0.weight", 3).lr_scale, 1.0);
    }

    #[test]
    fn biases_and_one_dimensional_parameters_get_no_weight_decay() {
        let r = |k: &str, rank| param_rule(k, rank, 21, None, 0.05);
        assert_eq!(r("blocks.0.attn.q_bias", 1).weight_decay, 0.0);
        assert_eq!(r("blocks.0.norm1.weight", 1).weight_decay, 0.0);
        assert_eq!(r("head.bias", 1).weight_decay, 0.0);
        assert_eq!(r("mask_token", 3).weight_decay, 0.0);
        assert_eq!(r("blocks.0.attn.qkv.weight", 2).weight_decay, 0.05);
        assert_eq!(r("blocks.0.attn.qkv.weight", 2).lr_scale, 1.0);
    }
}
