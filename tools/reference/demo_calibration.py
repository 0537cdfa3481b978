"""How the CPU demo was calibrated: does pre-training beat scratch on the demo set, in PyTorch?

The demo's science check (paper Fig. 4 in miniature) needs a data set on which the `demo`
transformer cannot learn from 210 labelled clips alone within the demo's budget, yet learns
once pre-trained on the unlabeled clips. This script runs that comparison with the
independent PyTorch reference (about 2.5x faster than svfap-tui on CPU, so data settings can
be tried quickly), on fixed clips exported by svfap-tui's own pipeline:

    svfap-tui demo-data /tmp/demo/data
    cd /tmp/demo/data && mkdir -p ../clips && for split in train test; do
      while read p l; do
        svfap-tui data clip $p --size 64 --frames 8 --stride 8 --clips 2 --clip 1 \
          --out ../clips/$split-$(basename $p .mp4)-$l.npy
      done < $split.csv; done
    for p in videos/unlabeled/*.mp4; do
      svfap-tui data clip $p --size 64 --frames 8 --stride 8 --clips 2 --clip 1 \
        --out ../clips/unlabeled-$(basename $p .mp4)-0.npy; done
    python3 tools/reference/demo_calibration.py /tmp/demo/clips

It pre-trains (normalised-pixel targets, tube mask 0.75, AdamW 1.5e-3, betas 0.9/0.95) on the
unlabeled and training clips, then fine-tunes the classifier (lr 1e-3, layer decay 0.75,
label smoothing 0.1, flip) from that and from scratch with the same steps, and prints the
test accuracy of both. On 2026-11-27, on the default demo set (3,000 pre-training steps, loss
1.15 -> 0.58; 600 fine-tuning steps): from pre-training 37.1%, from scratch 7.1% (chance
14.3%). svfap-tui's own `demo --headless` on the same set: UAR 35.7 vs 7.1.
"""
import argparse
import glob
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svfap_reference as R  # noqa: E402


def load(folder: str, split: str):
    files = sorted(glob.glob(os.path.join(folder, f"{split}-*.npy")))
    if not files:
        sys.exit(f"{folder}: no {split}-*.npy clips (see the docstring)")
    clips = torch.tensor(np.stack([np.load(f) for f in files]))
    labels = torch.tensor([int(f.rsplit("-", 1)[1][:-4]) for f in files])
    return clips, labels


def cosine(step: int, steps: int, warm: int, peak: float, floor: float) -> float:
    if step < warm:
        return floor + (peak - floor) * step / warm
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * (step - warm) / (steps - warm)))


def no_decay(name: str, p) -> bool:
    return p.ndim < 2 or name.endswith(".bias")


def pretrain(cfg, clips, steps: int) -> dict:
    model = R.PretrainSVFAP(cfg)
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    named = list(model.named_parameters())
    opt = torch.optim.AdamW(
        [{"params": [p for n, p in named if not no_decay(n, p)], "weight_decay": 0.05},
         {"params": [p for n, p in named if no_decay(n, p)], "weight_decay": 0.0}],
        betas=(0.9, 0.95))
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = cosine(step, steps, steps // 6, 1.5e-3, 1e-5)
        video = clips[torch.randint(0, len(clips), (8,))]
        mask = R.tube_mask(cfg, 8)
        loss = R.pretrain_loss(model(video, mask), R.targets(video, mask, cfg))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == steps - 1:
            print(f"pre-train step {step}: loss {loss.item():.3f}", flush=True)
    return {k[len("encoder."):]: v for k, v in model.state_dict().items()
            if k.startswith("encoder.") and not k.startswith("encoder.norm")}


def layer_id(cfg, name: str) -> int:
    """Layer-decay depth: patch embedding 0, block i -> i + 1, each later stage's downsamplers
    with that stage's first block, fc_norm and head on top."""
    if name.startswith("patch_embed"):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    if name.startswith(("temporal_downsamples", "spatial_downsamples")):
        stage = int(name.split(".")[1])
        return cfg.depths[0] + sum(cfg.depths[1:stage + 1]) + 1
    return sum(cfg.depths) + 1


def finetune(cfg, encoder, train, test, steps: int) -> float:
    model = R.TPSBT(cfg)
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    model.head.weight.data.mul_(0.001)
    if encoder is not None:
        model.load_state_dict(encoder, strict=False)
    top = sum(cfg.depths) + 1
    groups = {}
    for n, p in model.named_parameters():
        key = (layer_id(cfg, n), 0.0 if no_decay(n, p) else 0.05)
        groups.setdefault(key, []).append(p)
    opt = torch.optim.AdamW(
        [{"params": ps, "weight_decay": wd, "scale": 0.75 ** (top - lid)}
         for (lid, wd), ps in groups.items()],
        betas=(0.9, 0.999))
    (xs, ys), (xt, yt) = train, test
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = cosine(step, steps, steps // 6, 1e-3, 1e-6) * g["scale"]
        idx = torch.randint(0, len(xs), (8,))
        video = xs[idx].flip(-1) if torch.rand(1) < 0.5 else xs[idx]
        loss = F.cross_entropy(model(video), ys[idx], label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = torch.cat([model(xt[i:i + 16]) for i in range(0, len(xt), 16)]).argmax(1)
    return (pred == yt).float().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clips", help="folder of {train,test,unlabeled}-NNNNN-LABEL.npy clips")
    ap.add_argument("--pretrain-steps", type=int, default=3000)
    ap.add_argument("--finetune-steps", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    cfg = R.preset("demo", mask_ratio=0.75)
    train, test = load(args.clips, "train"), load(args.clips, "test")
    unlabeled, _ = load(args.clips, "unlabeled")
    encoder = pretrain(cfg, torch.cat([unlabeled, train[0]]), args.pretrain_steps)
    scratch = finetune(cfg, None, train, test, args.finetune_steps)
    pretrained = finetune(cfg, encoder, train, test, args.finetune_steps)
    print(f"test accuracy: from pre-training {pretrained:.1%}, from scratch {scratch:.1%}")


if __name__ == "__main__":
    main()
