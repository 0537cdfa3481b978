"""Parameters and FLOPs of the SVFAP presets with fvcore, by operator.

    python3 tools/reference/flops.py

fvcore's convention (VideoMAE-family papers; it reproduces SVFAP's numbers): one fused
multiply-add = one FLOP; linear/matmul/einsum/bmm count M*N*K, convolutions count
out_elements * in_channels * kernel_volume (biases ignored), layer_norm counts
5 * elements (4 without affine); softmax, GELU, residual adds, scaling, mean, indexing,
concatenation are not counted.  The paper reports (Table 3 / §4.4): base 77.6M params,
43.6 GFLOPs fine-tune, 12.9 GFLOPs pre-train; small 29.7M params, 18.1 GFLOPs.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

import torch
from fvcore.nn import FlopCountAnalysis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svfap_reference as R  # noqa: E402

logging.getLogger("fvcore").setLevel(logging.ERROR)
warnings.filterwarnings("ignore")


def analytic(cfg: R.Config, pretrain: bool = False, released_reverse_context: bool = False):
    """The same count in closed form (what the Rust FLOP accounting reproduces), by operator.

    n tokens of width C: a Block costs linear 12·n·C² (qkv 3, proj 1, MLP 2·4), matmul
    2·n²·C (QKᵀ and AV), layer_norm 2·5·n·C.  A CSBlock with n_q queries and n_k context
    tokens adds linear (2·n_q + 2·n_k)·C², matmul 2·n_q·n_k·C, layer_norm 5·(n_q + n_k)·C.
    """
    c, k, g, hid = cfg.width, cfg.temporal_kernel, cfg.bottleneck_tokens, cfg.bottleneck_hidden
    r = cfg.mlp_ratio
    t, s_all = cfg.grid[0], cfg.spatial
    n_all = t * s_all
    s = s_all - int(cfg.mask_ratio * s_all) if pretrain else s_all
    ops = {"linear": 0, "matmul": 0, "conv": 0, "layer_norm": 0}

    def block(n, w):
        ops["linear"] += n * w * (4 * w + 2 * int(w * r))
        ops["matmul"] += 2 * n * n * w
        ops["layer_norm"] += 10 * n * w

    def cross(nq, nk):
        ops["linear"] += (2 * nq + 2 * nk) * c * c
        ops["matmul"] += 2 * nq * nk * c
        ops["layer_norm"] += 5 * (nq + nk) * c

    ops["conv"] += n_all * cfg.patch_dim * c  # patch embedding sees the whole clip
    for _ in range(cfg.depths[0]):
        block(t * s, c)
    for depth in cfg.depths[1:]:
        t //= k
        n, nb = t * s, t * g
        ops["conv"] += n * c * c * k  # temporal down-sampling
        if released_reverse_context:
            # released bug 1: the bottleneck branch feeds nothing, and fvcore's traced graph
            # drops dead code, so only the reverse block (context = full embedding) counts
            cross(n, n_all)
            block(n, c)
            continue
        ops["layer_norm"] += 5 * n * c  # spatial attention: LN, MLP, Aᵀ X
        ops["linear"] += n * c * hid + n * hid * g
        ops["matmul"] += nb * s * c
        for _ in range(depth - 1):  # cross-self blocks: bottleneck queries the full tokens
            cross(nb, n)
            block(nb, c)
        cross(n, nb)  # reverse block: full tokens query the bottleneck
        block(n, c)
    if not pretrain:
        ops["layer_norm"] += 5 * c  # fc_norm on the pooled vector
        ops["linear"] += c * cfg.num_classes
        return ops
    n_vis, n_mask, d = cfg.grid[0] * s, n_all - cfg.grid[0] * s, cfg.decoder_width
    ops["layer_norm"] += 5 * n_vis * c  # encoder.norm
    ops["linear"] += n_vis * c * d  # encoder_to_decoder
    for _ in range(cfg.decoder_depth):
        block(n_all, d)
    ops["layer_norm"] += 5 * n_mask * d
    ops["linear"] += n_mask * d * cfg.patch_dim
    return ops


def count(model, inputs):
    fca = FlopCountAnalysis(model, inputs)
    fca.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return fca.total(), dict(fca.by_operator()), dict(fca.by_module())


def show(label, total, by_op, expected):
    """Prints fvcore's total and per-operator split and checks it against `analytic`."""
    ops = ", ".join(f"{k} {v / 1e9:.4f}" for k, v in sorted(by_op.items(), key=lambda kv: -kv[1]))
    print(f"  {label:<56} {total / 1e9:8.4f} GFLOPs  [{ops}]")
    mismatch = {k: (by_op.get(k, 0), v) for k, v in expected.items() if by_op.get(k, 0) != v}
    extra = set(by_op) - set(expected)
    if mismatch or extra:
        raise SystemExit(f"analytic count differs from fvcore: {mismatch} {extra}")


def params(model):
    return sum(p.numel() for p in model.parameters())


def video(cfg):
    return torch.randn(1, cfg.in_chans, cfg.frames, cfg.img_size, cfg.img_size)


def finetune(name, **over):
    cfg = R.preset(name, **over)
    model = R.TPSBT(cfg).eval()
    total, by_op, by_mod = count(model, (video(cfg),))
    return cfg, model, total, by_op, by_mod


def pretrain(cfg, **kw):
    model = R.PretrainSVFAP(cfg, **kw).eval()
    mask = R.tube_mask(cfg, 1, cfg.mask_ratio, torch.Generator().manual_seed(0))
    total, by_op, by_mod = count(model, (video(cfg), mask))
    return model, total, by_op, by_mod


def main():
    torch.manual_seed(0)
    paper = {"base": (77.6, 43.6), "small": (29.7, 18.1)}
    for name in ("base", "small"):
        cfg, model, total, by_op, by_mod = finetune(name)
        p_all = params(model)
        p_nohead = p_all - sum(p.numel() for p in model.head.parameters())
        print(f"{name}: width {cfg.width}, heads {cfg.heads}, depths {cfg.depths}, "
              f"G {cfg.bottleneck_tokens}, {cfg.num_tokens} tokens")
        print(f"  params: {p_all / 1e6:.3f}M ({p_all}), without head {p_nohead / 1e6:.3f}M;"
              f" paper {paper[name][0]}M")
        show(f"fine-tune, one clip (paper {paper[name][1]})", total, by_op, analytic(cfg))
        top = {k: v for k, v in by_mod.items() if k and "." not in k and v}
        print("  by top-level module: " + ", ".join(
            f"{k} {v / 1e9:.4f}" for k, v in sorted(top.items(), key=lambda kv: -kv[1])))
        # the fusion adds only additions, which fvcore does not count
        _, _, t, by_op, _ = finetune(name, fuse_multiscale=True)
        show("fine-tune with multi-scale fusion", t, by_op, analytic(cfg))

    print("base pre-training, mask ratio 0.9 (paper 12.9):")
    base = R.preset("base")
    variants = [
        ("fixed (this reference), 512/8 encoder", base, {}),
        ("released bug 1 (reverse ctx = full embedding), 512/8", base,
         {"released_reverse_context": True}),
        ("fixed, released 768/12 encoder", R.preset("base", width=768, heads=12), {}),
        ("released bug 1, released 768/12 encoder", R.preset("base", width=768, heads=12),
         {"released_reverse_context": True}),
    ]
    for label, cfg, kw in variants:
        model, total, by_op, by_mod = pretrain(cfg, **kw)
        enc = by_mod.get("encoder", 0)
        dec = total - enc
        show(label, total, by_op, analytic(cfg, True, kw.get("released_reverse_context", False)))
        print(f"  {'':<56} encoder {enc / 1e9:.4f} + decoder side {dec / 1e9:.4f};"
              f" params {params(model) / 1e6:.3f}M")


if __name__ == "__main__":
    main()
