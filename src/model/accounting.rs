//! Parameter and FLOP accounting, in the convention the paper's Table 3 uses (fvcore's
//! `FlopCountAnalysis`): one multiply-add counts as one FLOP; Linear, matmul and convolution
//! are counted, LayerNorm as 5 per element; softmax, GELU, additions and pooling are free.

use super::config::{ClassifierConfig, EncoderConfig, PretrainerConfig};

/// Parameters of a pre-norm ViT block of width `c` with MLP hidden `h`.
fn block_params(c: usize, h: usize) -> usize {
    let norms = 2 * 2 * c;
    let attn = 3 * c * c + 2 * c + c * c + c;
    let mlp = c * h + h + h * c + c;
    norms + attn + mlp
}

/// Parameters of a cross-self block: cross-attention, its two norms, then a plain block.
fn cross_self_params(c: usize, h: usize) -> usize {
    let cross = c * c + 2 * c * c + 2 * c + c * c + c;
    cross + 2 * 2 * c + block_params(c, h)
}

/// Parameters of the TPSBT trunk.
pub fn encoder_params(e: &EncoderConfig) -> usize {
    let c = e.width;
    let h = c * e.mlp_ratio;
    let mut total = c * e.patch_dim() + c;
    for (stage, &depth) in e.stage_depths.iter().enumerate() {
        if stage == 0 {
            total += depth * block_params(c, h);
        } else {
            let g = e.stage_bottleneck_tokens(stage);
            let hid = e.bottleneck_hidden;
            total += c * c * e.temporal_kernel + c; // temporal Conv1d
            total += 2 * c + c * hid + hid + hid * g + g; // spatial attention
            total += depth * cross_self_params(c, h);
        }
    }
    total
}

pub fn classifier_params(cfg: &ClassifierConfig) -> usize {
    let c = cfg.encoder.width;
    encoder_params(&cfg.encoder) + 2 * c + c * cfg.num_outputs + cfg.num_outputs
}

pub fn pretrainer_params(cfg: &PretrainerConfig) -> usize {
    let (c, d) = (cfg.encoder.width, cfg.decoder.width);
    let pd = cfg.encoder.patch_dim();
    encoder_params(&cfg.encoder)
        + 2 * c
        + c * d
        + d
        + cfg.decoder.depth * block_params(d, d * cfg.encoder.mlp_ratio)
        + 2 * d
        + d * pd
        + pd
}

fn linear(n: usize, i: usize, o: usize) -> f64 {
    (n * i * o) as f64
}
fn norm(n: usize, c: usize) -> f64 {
    5.0 * (n * c) as f64
}
/// q·kᵀ and weights·v over all heads.
fn attention_core(nq: usize, nk: usize, c: usize) -> f64 {
    2.0 * (nq * nk * c) as f64
}
fn block_flops(n: usize, c: usize, h: usize) -> f64 {
    2.0 * norm(n, c)
        + linear(n, c, 3 * c)
        + attention_core(n, n, c)
        + linear(n, c, c)
        + linear(n, c, h)
        + linear(n, h, c)
}
fn cross_self_flops(nq: usize, nk: usize, c: usize, h: usize) -> f64 {
    norm(nq, c)
        + norm(nk, c)
        + linear(nq, c, c)
        + linear(nk, c, 2 * c)
        + attention_core(nq, nk, c)
        + linear(nq, c, c)
        + block_flops(nq, c, h)
}

/// FLOPs of the trunk on `spatial` positions per slice; the patch embedding is counted on
/// `embedded_tokens` tubes (the released code convolves the whole clip even when masking).
fn encoder_flops(e: &EncoderConfig, spatial: usize, embedded_tokens: usize) -> f64 {
    let c = e.width;
    let h = c * e.mlp_ratio;
    let mut total = linear(embedded_tokens, e.patch_dim(), c);
    for (stage, &depth) in e.stage_depths.iter().enumerate() {
        let n = e.stage_temporal_len(stage) * spatial;
        if stage == 0 {
            total += depth as f64 * block_flops(n, c, h);
        } else {
            let g = e.stage_bottleneck_tokens(stage);
            let nb = e.stage_temporal_len(stage) * g;
            total += linear(n, c * e.temporal_kernel, c); // temporal Conv1d
            total +=
                norm(n, c) + linear(n, c, e.bottleneck_hidden) + linear(n, e.bottleneck_hidden, g);
            total += (nb * spatial * c) as f64; // Aᵀ·X
            total += (depth - 1) as f64 * cross_self_flops(nb, n, c, h); // on the bottleneck
            total += cross_self_flops(n, nb, c, h); // reverse block
        }
    }
    total
}

/// Fine-tuning FLOPs for one clip.
pub fn classifier_flops(cfg: &ClassifierConfig) -> f64 {
    let e = &cfg.encoder;
    encoder_flops(e, e.spatial_len(), e.num_tokens())
        + norm(1, e.width)
        + linear(1, e.width, cfg.num_outputs)
}

/// Pre-training FLOPs for one clip at the configured mask ratio.
pub fn pretrainer_flops(cfg: &PretrainerConfig) -> f64 {
    let e = &cfg.encoder;
    let t = e.temporal_len();
    let (visible, masked) = (t * cfg.visible_per_slice(), t * cfg.masked_per_slice());
    let (c, d) = (e.width, cfg.decoder.width);
    encoder_flops(e, cfg.visible_per_slice(), e.num_tokens())
        + norm(visible, c)
        + linear(visible, c, d)
        + cfg.decoder.depth as f64 * block_flops(e.num_tokens(), d, d * e.mlp_ratio)
        + norm(masked, d)
        + linear(masked, d, e.patch_dim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;
    use crate::model::presets::preset;
    use crate::model::{SvfapClassifier, SvfapPretrainer};
    use burn::module::Module;

    fn classifier(name: &str, classes: usize) -> ClassifierConfig {
        ClassifierConfig {
            encoder: preset(name).unwrap().encoder,
            num_outputs: classes,
            head_activation: Default::default(),
            fuse_multiscale: false,
        }
    }

    #[test]
    fn analytic_parameter_count_equals_the_built_models() {
        let cfg = classifier("test", 7);
        let model = SvfapClassifier::<Cpu>::new(&cfg, 0, &Default::default());
        assert_eq!(model.num_params(), classifier_params(&cfg));
        let p = preset("test").unwrap();
        let pcfg = PretrainerConfig {
            encoder: p.encoder,
            decoder: p.decoder,
            mask_ratio: 0.75,
            fuse_multiscale: true,
            target: Default::default(),
        };
        let model = SvfapPretrainer::<Cpu>::new(&pcfg, 0, &Default::default());
        assert_eq!(model.num_params(), pretrainer_params(&pcfg));
    }

    #[test]
    fn base_matches_paper_table_3() {
        let cfg = classifier("base", 7);
        assert_eq!(
            format!("{:.1}", classifier_params(&cfg) as f64 / 1e6),
            "77.6"
        );
        assert_eq!(format!("{:.1}", classifier_flops(&cfg) / 1e9), "43.6");
        let p = preset("base").unwrap();
        let pcfg = PretrainerConfig {
            encoder: p.encoder,
            decoder: p.decoder,
            mask_ratio: 0.9,
            fuse_multiscale: true,
            target: Default::default(),
        };
        assert_eq!(format!("{:.1}", pretrainer_flops(&pcfg) / 1e9), "12.9");
    }

    #[test]
    fn small_matches_paper_table_3() {
        let cfg = classifier("small", 7);
        assert_eq!(
            format!("{:.1}", classifier_params(&cfg) as f64 / 1e6),
            "29.7"
        );
        assert_eq!(format!("{:.1}", classifier_flops(&cfg) / 1e9), "18.1");
    }
}
