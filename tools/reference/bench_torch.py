"""PyTorch eager fp32 CPU baseline for svfap-tui's throughput numbers.

    python3 tools/reference/bench_torch.py --preset demo --mode pretrain --batch 8 --steps 5

Modes: infer (no_grad forward), finetune (forward + cross-entropy + backward + AdamW step),
pretrain (forward + normalised-pixel MSE + backward + AdamW step, tube mask at the preset's
ratio).  Two warm-up steps are run first; the timed steps report clips per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svfap_reference as R  # noqa: E402


def make_step(cfg: R.Config, mode: str, batch: int):
    video = torch.randn(batch, cfg.in_chans, cfg.frames, cfg.img_size, cfg.img_size)
    if mode in ("infer", "finetune"):
        model = R.TPSBT(cfg)
        labels = torch.randint(0, cfg.num_classes, (batch,))
    else:
        model = R.PretrainSVFAP(cfg)
        gen = torch.Generator().manual_seed(0)
    if mode == "infer":
        model.eval()

        def step():
            with torch.no_grad():
                model(video)

        return model, step

    model.train()
    # recipe values (DESIGN.md §6); they do not change the cost of a step
    betas = (0.9, 0.999) if mode == "finetune" else (0.9, 0.95)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=betas, weight_decay=0.05)

    def step():
        if mode == "finetune":
            loss = F.cross_entropy(model(video), labels)
        else:
            mask = R.tube_mask(cfg, batch, generator=gen)
            with torch.no_grad():
                target = R.targets(video, mask, cfg, normalise=True)
            loss = R.pretrain_loss(model(video, mask), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return model, step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="demo", choices=sorted(R.PRESETS))
    ap.add_argument("--mode", default="infer", choices=("infer", "finetune", "pretrain"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = R.preset(args.preset)
    model, step = make_step(cfg, args.mode, args.batch)
    n_params = sum(p.numel() for p in model.parameters())
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    total = sum(times)
    print(f"torch {torch.__version__} threads {torch.get_num_threads()} preset {args.preset} "
          f"mode {args.mode} batch {args.batch} params {n_params / 1e6:.2f}M: "
          f"{args.batch * args.steps / total:.2f} clips/s "
          f"(step mean {1e3 * total / args.steps:.1f} ms, min {1e3 * min(times):.1f} ms, "
          f"{args.steps} steps after {args.warmup} warm-up)")


if __name__ == "__main__":
    main()
