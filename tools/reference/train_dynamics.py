"""Training dynamics of the PyTorch reference for `tests/train_classifier.rs`.

Same tiny model, init (trunc-normal 0.02, zero biases, head x 0.001), AdamW with no weight
decay on 1-D parameters and biases, and the same cosine schedule (lr 1e-3, 5 warm-up steps,
60 steps) on four clips that differ in brightness. It prints the loss curve. On 2026-11-27
PyTorch ended at 0.814. Ours, with the same settings and layer decay off, ended at 0.843.
The two learn at the same pace, so the slow fine-tuning of the CPU demo is not a trainer
bug. Run: python3 tools/reference/train_dynamics.py
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svfap_reference as R
torch.manual_seed(0)
cfg = R.preset('tiny', num_classes=4)
m = R.TPSBT(cfg)
for mod in m.modules():
    if isinstance(mod, torch.nn.Linear):
        torch.nn.init.trunc_normal_(mod.weight, std=0.02)
        if mod.bias is not None: torch.nn.init.zeros_(mod.bias)
m.head.weight.data.mul_(0.001)
noise = torch.randn(4, 3, 8, 32, 32) * 0.5
clips = noise + torch.tensor([-1.5, -0.5, 0.5, 1.5]).view(4, 1, 1, 1, 1)
y = torch.arange(4)
decay = [p for n, p in m.named_parameters() if p.ndim > 1 and not n.endswith('.bias')]
nodecay = [p for n, p in m.named_parameters() if not (p.ndim > 1 and not n.endswith('.bias'))]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': nodecay, 'weight_decay': 0.0}], lr=1e-3, betas=(0.9, 0.999))
steps, warm = 60, 5
losses = []
for s in range(steps):
    lr = 1e-5 + (1e-3 - 1e-5) * s / warm if s < warm else 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * (s - warm) / (steps - warm)))
    for g in opt.param_groups: g['lr'] = lr
    loss = torch.nn.functional.cross_entropy(m(clips), y)
    opt.zero_grad(); loss.backward(); opt.step()
    losses.append(loss.item())
print('torch', [round(l, 3) for l in losses[::6]], round(losses[-1], 3))
