"""Independent PyTorch reference of SVFAP (Sun et al., IEEE TAC 2024, arXiv 2401.00416).

This file exists to produce numerical fixtures for the Rust (burn) implementation and to
measure parameters / FLOPs.  It is written from the paper and DESIGN.md §5; the released
code (github.com/sunlicai/SVFAP) was read only for parameter names and semantics, so that
checkpoints released by the authors load with the same keys.

Plain torch only (no timm, no einops).  Conventions:

* video input  [B, 3, F, H, W], already normalised with ImageNet mean/std;
* tokens       [B, N, C], t-major: token index = t * S + (h * W' + w), S = H' * W';
* masks        [B, N] bool, True = masked (hidden from the encoder); tube masks only,
               i.e. the same spatial patches are masked in every time slice.

The three bugs of the released pre-training code listed in DESIGN.md §5 are fixed here:
the reverse block attends to the bottleneck tokens (bug 1), temporal up-sampling uses each
stage's own length (bug 2), and nothing here loads weights partially (bug 3).  For FLOP
accounting only, `PretrainSVFAP(..., released_reverse_context=True)` reproduces bug 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LN_EPS = 1e-6  # released factories use partial(nn.LayerNorm, eps=1e-6)


# --------------------------------------------------------------------------- config


@dataclass
class Config:
    img_size: int = 160
    patch_size: int = 16
    in_chans: int = 3
    frames: int = 16
    tubelet: int = 2
    width: int = 512
    heads: int = 8
    depths: tuple = (12, 6, 3)
    bottleneck_tokens: int = 8  # G, per time slice (paper §3.2.2)
    bottleneck_hidden: int = 128  # hidden width of the spatial-attention MLP (released code)
    temporal_kernel: int = 2  # Conv1d kernel = stride of the temporal pyramid
    mlp_ratio: float = 4.0
    num_classes: int = 7
    head_activation: Optional[str] = None  # None | "sigmoid" | "tanh" | "relu"
    fuse_multiscale: bool = False  # fine-tune: pool X1 + up(X2) + up(X3) (paper Table 4)
    # pre-training decoder (paper §4.1: 4 blocks, 384 wide)
    decoder_width: int = 384
    decoder_depth: int = 4
    decoder_heads: int = 6
    mask_ratio: float = 0.9

    @property
    def grid(self):
        """(T, H', W') of the token grid."""
        p = self.patch_size
        return self.frames // self.tubelet, self.img_size // p, self.img_size // p

    @property
    def spatial(self) -> int:
        _, h, w = self.grid
        return h * w

    @property
    def num_tokens(self) -> int:
        t, _, _ = self.grid
        return t * self.spatial

    @property
    def patch_dim(self) -> int:
        return self.in_chans * self.tubelet * self.patch_size**2


PRESETS = {
    # paper Table 3
    "base": Config(),
    "small": Config(width=384, heads=6, depths=(8, 4, 2)),
    # CPU demo preset of svfap-tui
    "demo": Config(
        img_size=64, frames=8, width=192, heads=3, depths=(4, 2, 2), bottleneck_tokens=4,
        decoder_width=128, decoder_depth=2, decoder_heads=2,
    ),
    # fixtures (tools/reference/make_fixtures.py)
    "tiny": Config(
        img_size=32, patch_size=8, frames=8, tubelet=2, width=32, heads=4, depths=(2, 2, 2),
        bottleneck_tokens=4, decoder_width=16, decoder_depth=2, decoder_heads=2,
        mask_ratio=0.75,
    ),
}


def preset(name: str, **overrides) -> Config:
    return replace(PRESETS[name], **overrides)


# --------------------------------------------------------------------------- helpers


def sinusoid_table(n_position: int, dim: int) -> torch.Tensor:
    """Fixed 1-D sine-cosine table [1, n, d] (Vaswani et al.; as in VideoMAE / SVFAP).

    angle(pos, j) = pos / 10000^(2 * floor(j / 2) / d); even columns sin, odd columns cos.
    Computed in float64 and rounded to float32, like the released numpy code.
    """
    pos = np.arange(n_position, dtype=np.float64)[:, None]
    j = np.arange(dim)
    angle = pos / np.power(10000.0, 2 * (j // 2) / dim)[None, :]
    table = np.where(j % 2 == 0, np.sin(angle), np.cos(angle))
    return torch.from_numpy(table.astype(np.float32)).unsqueeze(0)


def layer_norm(dim: int) -> nn.LayerNorm:
    return nn.LayerNorm(dim, eps=LN_EPS)


def check_tube_mask(mask: torch.Tensor, t: int) -> int:
    """Checks that `mask` [B, t*S] hides the same spatial patches in every time slice and the
    same number per sample; returns the number of visible spatial positions."""
    b, n = mask.shape
    m = mask.reshape(b, t, n // t)
    if not bool((m == m[:, :1]).all()):
        raise ValueError("mask is not a tube mask (differs between time slices)")
    vis = (~m[:, 0]).sum(1)
    if not bool((vis == vis[0]).all()):
        raise ValueError("every sample must keep the same number of visible patches")
    return int(vis[0])


def temporal_upsample(x: torch.Tensor, t_from: int, t_to: int) -> torch.Tensor:
    """Nearest-in-time up-sampling of t-major tokens [B, t_from*S, C] -> [B, t_to*S, C]:
    each of the stage's own `t_from` slices is repeated t_to/t_from times (released bug 2
    reshaped with the pre-down-sampling length instead)."""
    if t_from == t_to:
        return x
    b, n, c = x.shape
    x = x.reshape(b, t_from, n // t_from, c)
    x = x.repeat_interleave(t_to // t_from, dim=1)
    return x.reshape(b, -1, c)


# --------------------------------------------------------------------------- layers


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, out: Optional[int] = None):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf) GELU
        self.fc2 = nn.Linear(hidden, out or dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def _attend(q, k, v, scale, return_weights=False):
    """q [B,h,Nq,d], k/v [B,h,Nk,d] -> [B, Nq, h*d] (+ weights [B,h,Nq,Nk])."""
    w = torch.softmax((q * scale) @ k.transpose(-2, -1), dim=-1)
    out = (w @ v).transpose(1, 2).flatten(2)
    return (out, w) if return_weights else out


class Attention(nn.Module):
    """Self-attention with a fused bias-free qkv projection plus learnable q and v biases
    (the k bias is fixed at zero; BEiT / VideoMAE convention used by SVFAP)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, return_weights=False):
        b, n, c = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias)
        qkv = qkv.reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = _attend(qkv[0], qkv[1], qkv[2], self.scale, return_weights)
        if return_weights:
            return self.proj(out[0]), out[1]
        return self.proj(out)


class CrossAttention(nn.Module):
    """Cross-attention: query from x (q Linear without bias + q_bias), key/value from the
    context (kv Linear without bias + cat(0, v_bias))."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, context):
        b, nq, c = x.shape
        nk = context.shape[1]
        h = self.heads
        q = F.linear(x, self.q.weight, self.q_bias)
        q = q.reshape(b, nq, h, c // h).transpose(1, 2)
        kv_bias = torch.cat([torch.zeros_like(self.v_bias), self.v_bias])
        kv = F.linear(context, self.kv.weight, kv_bias)
        kv = kv.reshape(b, nk, 2, h, c // h).permute(2, 0, 3, 1, 4)
        return self.proj(_attend(q, kv[0], kv[1], self.scale))


class Block(nn.Module):
    """Pre-norm ViT block (no LayerScale, no drop path at inference)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = layer_norm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = layer_norm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class CSBlock(nn.Module):
    """Cross-self block (paper Eq. 6-8): cross-attention to LN(context), self-attention, MLP."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.cross_attn = CrossAttention(dim, heads)
        self.cross_norm1 = layer_norm(dim)
        self.cross_norm2 = layer_norm(dim)
        self.norm1 = layer_norm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = layer_norm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, context):
        x = x + self.cross_attn(self.cross_norm1(x), self.cross_norm2(context))
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SpatialAttention(nn.Module):
    """Spatial bottleneck (paper Eq. 4-5): A = softmax_S(MLP(LN(X))) per time slice,
    B = Aᵀ X, giving G tokens per slice (t-major)."""

    def __init__(self, dim: int, tokens: int, hidden: int = 128):
        super().__init__()
        self.norm = layer_norm(dim)
        self.mlp = Mlp(dim, hidden, tokens)

    def forward(self, x, t: int):
        b, n, c = x.shape
        s = n // t
        logits = self.mlp(self.norm(x)).reshape(b, t, s, -1)  # [B, t, S, G]
        a = torch.softmax(logits, dim=2)  # over the S spatial positions of each slice
        xs = x.reshape(b, t, s, c)
        out = a.transpose(2, 3) @ xs  # [B, t, G, C]
        return out.reshape(b, -1, c)


class PatchEmbed(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        k = (cfg.tubelet, cfg.patch_size, cfg.patch_size)
        self.proj = nn.Conv3d(cfg.in_chans, cfg.width, kernel_size=k, stride=k)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, N, C], t-major


class TemporalDownsample(nn.Conv1d):
    """Temporal pyramid (paper Eq. 3): Conv1d(C, C, k, stride k) along time, applied to each
    spatial position independently.  Subclass of Conv1d so its keys are `.weight`/`.bias`."""

    def __init__(self, dim: int, k: int):
        super().__init__(dim, dim, kernel_size=k, stride=k)

    def forward(self, x, t: int):
        b, n, c = x.shape
        s = n // t
        y = x.reshape(b, t, s, c).permute(0, 2, 3, 1).reshape(b * s, c, t)
        y = super().forward(y)  # [B*S, C, t/k]
        t2 = y.shape[-1]
        return y.reshape(b, s, c, t2).permute(0, 3, 1, 2).reshape(b, t2 * s, c)


# --------------------------------------------------------------------------- TPSBT


class TPSBTBackbone(nn.Module):
    """Patch embedding and the stages of the temporal-pyramid spatial-bottleneck Transformer.

    blocks are numbered globally: stage-1 Blocks, then for every later stage its (depth-1)
    cross-self CSBlocks followed by its reverse CSBlock."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        c = cfg.width
        self.patch_embed = PatchEmbed(cfg)
        self.register_buffer("pos_embed", sinusoid_table(cfg.num_tokens, c), persistent=False)
        blocks = [Block(c, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.depths[0])]
        for d in cfg.depths[1:]:
            blocks += [CSBlock(c, cfg.heads, cfg.mlp_ratio) for _ in range(d)]
        self.blocks = nn.ModuleList(blocks)
        n_later = len(cfg.depths) - 1
        self.temporal_downsamples = nn.ModuleList(
            [TemporalDownsample(c, cfg.temporal_kernel) for _ in range(n_later)])
        self.spatial_downsamples = nn.ModuleList(
            [SpatialAttention(c, cfg.bottleneck_tokens, cfg.bottleneck_hidden)
             for _ in range(n_later)])

    def embed(self, video):
        return self.patch_embed(video) + self.pos_embed

    def stages(self, x, t: int, reverse_context_override=None):
        """x: t-major tokens [B, t*S, C] (S = all or only the visible spatial positions).
        Returns [(X_i, T_i)] for every stage; X_i is the stage's output at full spatial
        resolution (stage 1: its last Block; later stages: the reverse block's output)."""
        depths = self.cfg.depths
        outs = []
        i = 0
        for _ in range(depths[0]):
            x = self.blocks[i](x)
            i += 1
        outs.append((x, t))
        for s, d in enumerate(depths[1:]):
            x = self.temporal_downsamples[s](x, t)
            t = t // self.cfg.temporal_kernel
            full = x
            b = self.spatial_downsamples[s](full, t)
            for _ in range(d - 1):
                b = self.blocks[i](b, full)  # query = bottleneck, key/value = full tokens
                i += 1
            ctx = b if reverse_context_override is None else reverse_context_override
            x = self.blocks[i](full, ctx)  # reverse block: restores spatial resolution
            i += 1
            outs.append((x, t))
        return outs


def fuse(outs, t_full: int):
    """Multi-scale fusion X1 + up(X2) + up(X3) (paper Eq. 10)."""
    total = None
    for x, t in outs:
        up = temporal_upsample(x, t, t_full)
        total = up if total is None else total + up
    return total


_ACTIVATIONS = {None: nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


class TPSBT(TPSBTBackbone):
    """Fine-tuning model: mean-pool the last stage (or the fused stages) -> fc_norm -> head."""

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.fc_norm = layer_norm(cfg.width)
        self.head = nn.Linear(cfg.width, cfg.num_classes)
        self.head_act = _ACTIVATIONS[cfg.head_activation]()

    def forward_features(self, video):
        t = self.cfg.grid[0]
        outs = self.stages(self.embed(video), t)
        x = fuse(outs, t) if self.cfg.fuse_multiscale else outs[-1][0]
        return self.fc_norm(x.mean(1))

    def forward(self, video, return_features=False):
        f = self.forward_features(video)
        y = self.head_act(self.head(f))
        return (y, f) if return_features else y


class PretrainEncoder(TPSBTBackbone):
    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.norm = layer_norm(cfg.width)


class Decoder(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        d = cfg.decoder_width
        self.blocks = nn.ModuleList(
            [Block(d, cfg.decoder_heads, cfg.mlp_ratio) for _ in range(cfg.decoder_depth)])
        self.norm = layer_norm(d)
        self.head = nn.Linear(d, cfg.patch_dim)

    def forward(self, x, n_masked: int):
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x[:, -n_masked:]))


class PretrainSVFAP(nn.Module):
    """Masked facial-video autoencoder (paper §3.3) with the released bugs fixed.

    fuse_multiscale=False decodes from the last stage alone (up-sampled to full T).
    released_reverse_context=True is the released bug 1 (reverse block attends to the full,
    unmasked patch embedding); it exists only so flops.py can measure that variant."""

    def __init__(self, cfg: Config, fuse_multiscale: bool = True,
                 released_reverse_context: bool = False):
        super().__init__()
        self.cfg = cfg
        self.fuse_multiscale = fuse_multiscale
        self.released_reverse_context = released_reverse_context
        # registration order = the released state-dict order
        # (mask_token, encoder.*, decoder.*, encoder_to_decoder.weight)
        self.encoder = PretrainEncoder(cfg)
        self.decoder = Decoder(cfg)
        self.encoder_to_decoder = nn.Linear(cfg.width, cfg.decoder_width, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, cfg.decoder_width))
        self.register_buffer(
            "decoder_pos_embed", sinusoid_table(cfg.num_tokens, cfg.decoder_width),
            persistent=False)

    def forward(self, video, mask):
        """video [B,3,F,H,W] (normalised), mask [B,N] bool (True = masked).
        Returns predictions for the masked tokens [B, N_mask, 3*tubelet*p*p], in t-major
        order of the masked tokens."""
        enc = self.encoder
        t = self.cfg.grid[0]
        mask = mask.bool()
        check_tube_mask(mask, t)
        tokens = enc.embed(video)
        b, n, c = tokens.shape
        vis = tokens[~mask].reshape(b, -1, c)  # t-major order is kept by boolean indexing
        override = tokens if self.released_reverse_context else None
        outs = enc.stages(vis, t, reverse_context_override=override)
        x = fuse(outs, t) if self.fuse_multiscale else temporal_upsample(*outs[-1], t)
        x = self.encoder_to_decoder(enc.norm(x))
        d = x.shape[-1]
        pos = self.decoder_pos_embed.expand(b, -1, -1)
        pos_vis = pos[~mask].reshape(b, -1, d)
        pos_mask = pos[mask].reshape(b, -1, d)
        full = torch.cat([x + pos_vis, self.mask_token + pos_mask], dim=1)
        return self.decoder(full, pos_mask.shape[1])


# --------------------------------------------------------------------------- targets


def tube_mask(cfg: Config, batch: int, ratio: Optional[float] = None,
              generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Random tube masks [B, N] bool: int(ratio * S) spatial positions masked per sample,
    the same in every time slice (released TubeMaskingGenerator)."""
    ratio = cfg.mask_ratio if ratio is None else ratio
    t, s = cfg.grid[0], cfg.spatial
    n_mask = int(ratio * s)
    rows = []
    for _ in range(batch):
        perm = torch.randperm(s, generator=generator)
        m = torch.zeros(s, dtype=torch.bool)
        m[perm[:n_mask]] = True
        rows.append(m.repeat(t))
    return torch.stack(rows)


def targets(video, mask, cfg: Config, normalise: bool = True):
    """Reconstruction targets of the masked tubes [B, N_mask, tubelet*p*p*3].

    Pixels are un-normalised to [0, 1] with the ImageNet mean/std and ordered
    (dt, dh, dw, c) with c fastest.  normalise=True: per tube and channel,
    (x - mean) / (unbiased std + 1e-6) over the tube's tubelet*p*p pixels (released
    engine_for_pretraining.py); normalise=False: raw [0, 1] pixels (paper Eq. 11)."""
    b, ch, f, h, w = video.shape
    p, tt = cfg.patch_size, cfg.tubelet
    mean = torch.tensor(IMAGENET_MEAN, dtype=video.dtype).view(1, 3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=video.dtype).view(1, 3, 1, 1, 1)
    x = video * std + mean
    x = x.reshape(b, ch, f // tt, tt, h // p, p, w // p, p)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)  # b, T, H', W', dt, dh, dw, c
    x = x.reshape(b, -1, tt * p * p, ch)
    if normalise:
        mu = x.mean(dim=2, keepdim=True)
        sd = x.var(dim=2, unbiased=True, keepdim=True).sqrt()
        x = (x - mu) / (sd + 1e-6)
    x = x.reshape(b, x.shape[1], -1)
    return x[mask.bool()].reshape(b, -1, x.shape[-1])


def pretrain_loss(pred, target):
    return F.mse_loss(pred, target)
