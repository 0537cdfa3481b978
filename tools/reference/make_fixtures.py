"""Writes the small numerical fixtures of svfap-tui into tests/fixtures/.

    python3 tools/reference/make_fixtures.py [--out tests/fixtures]

Everything is derived from fixed seeds, so rerunning reproduces the same files (up to
floating-point differences between PyTorch versions).  See tests/fixtures/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svfap_reference as R  # noqa: E402

SEED = 20240101


def randomise_(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Replaces the default init by random values that make layout mistakes visible:
    every weight matrix is dense N(0, 1/fan_in) (large enough that attention is far from
    uniform, so a transposed q/k or a wrong head split changes the output), every bias,
    q_bias and v_bias is N(0, 0.2²), LayerNorm weights 1 + N(0, 0.2²) and biases N(0, 0.2²),
    and the mask token N(0, 1)."""
    ln_params = set()
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.LayerNorm):
            ln_params.add(f"{name}.weight")
            ln_params.add(f"{name}.bias")
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            leaf = name.rsplit(".", 1)[-1]
            if name in ln_params:
                p.copy_(1.0 + 0.2 * noise if leaf == "weight" else 0.2 * noise)
            elif name == "mask_token":
                p.copy_(noise)
            elif leaf in ("bias", "q_bias", "v_bias"):
                p.copy_(0.2 * noise)
            else:
                fan_in = p[0].numel()
                p.copy_(noise / math.sqrt(fan_in))


def contiguous(sd):
    return {k: v.detach().clone().contiguous() for k, v in sd.items()}


def save_npy(out, name, array):
    arr = np.ascontiguousarray(array)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    np.save(os.path.join(out, name), arr.astype(arr.dtype.newbyteorder("<")))


def finetune_fixtures(out, gen):
    cfg = R.preset("tiny")
    model = R.TPSBT(cfg).eval()
    randomise_(model, gen)
    sd = contiguous(model.state_dict())
    torch.save({"model": sd}, os.path.join(out, "finetune_tiny.pth"))
    torch.save({"module": sd}, os.path.join(out, "finetune_tiny_module.pth"))
    save_file(sd, os.path.join(out, "finetune_tiny.safetensors"))

    video = torch.randn(2, 3, cfg.frames, cfg.img_size, cfg.img_size, generator=gen)
    with torch.no_grad():
        logits, feats = model(video, return_features=True)
        fused = R.TPSBT(R.preset("tiny", fuse_multiscale=True)).eval()
        fused.load_state_dict(sd)
        fused_logits = fused(video)
    save_npy(out, "finetune_tiny_input.npy", video.numpy())
    save_npy(out, "finetune_tiny_logits.npy", logits.numpy())
    save_npy(out, "finetune_tiny_features.npy", feats.numpy())
    save_npy(out, "finetune_tiny_fused_logits.npy", fused_logits.numpy())
    return {"logits": logits, "fused": fused_logits}


def pretrain_fixtures(out, gen):
    cfg = R.preset("tiny")
    model = R.PretrainSVFAP(cfg, fuse_multiscale=True).eval()
    randomise_(model, gen)
    sd = contiguous(model.state_dict())
    torch.save({"model": sd}, os.path.join(out, "pretrain_tiny.pth"))

    video = torch.randn(2, 3, cfg.frames, cfg.img_size, cfg.img_size, generator=gen)
    while True:  # two different tube masks, 12 of 16 spatial positions masked
        mask = R.tube_mask(cfg, 2, 0.75, generator=gen)
        if not torch.equal(mask[0], mask[1]):
            break
    assert int(mask[0, :cfg.spatial].sum()) == 12
    with torch.no_grad():
        pred = model(video, mask)
        nofuse = R.PretrainSVFAP(cfg, fuse_multiscale=False).eval()
        nofuse.load_state_dict(sd)
        pred_nofuse = nofuse(video, mask)
        t_norm = R.targets(video, mask, cfg, normalise=True)
        t_plain = R.targets(video, mask, cfg, normalise=False)
        loss_norm = R.pretrain_loss(pred, t_norm).item()
        loss_plain = R.pretrain_loss(pred, t_plain).item()
    save_npy(out, "pretrain_tiny_input.npy", video.numpy())
    save_npy(out, "pretrain_tiny_mask.npy", mask.numpy().astype(np.uint8))
    save_npy(out, "pretrain_tiny_pred.npy", pred.numpy())
    save_npy(out, "pretrain_tiny_pred_nofuse.npy", pred_nofuse.numpy())
    save_npy(out, "pretrain_tiny_target_norm.npy", t_norm.numpy())
    save_npy(out, "pretrain_tiny_target_plain.npy", t_plain.numpy())
    with open(os.path.join(out, "pretrain_tiny_loss.json"), "w") as f:
        json.dump({"loss_norm": loss_norm, "loss_plain": loss_plain}, f, indent=2)
        f.write("\n")

    # Stand-in for the released pre-training factory's width mismatch (DESIGN.md §5 bug 3:
    # 768/12 pre-training vs 512/8 fine-tuning): same keys, width 48 instead of 32.
    wide = R.PretrainSVFAP(R.preset("tiny", width=48, heads=4))
    randomise_(wide, gen)
    torch.save({"model": contiguous(wide.state_dict())},
               os.path.join(out, "pretrain_tiny_wide48.pth"))
    return {"pred": pred, "loss_norm": loss_norm, "loss_plain": loss_plain}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "fixtures"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    ft = finetune_fixtures(args.out, gen)
    pt = pretrain_fixtures(args.out, gen)
    print("finetune logits[0]:", ft["logits"][0].tolist())
    print("fused logits[0]:   ", ft["fused"][0].tolist())
    print("pretrain loss_norm %.6f loss_plain %.6f" % (pt["loss_norm"], pt["loss_plain"]))
    total = 0
    for name in sorted(os.listdir(args.out)):
        size = os.path.getsize(os.path.join(args.out, name))
        total += size
        print(f"{size:>9}  {name}")
    print(f"{total:>9}  total bytes")


if __name__ == "__main__":
    main()
