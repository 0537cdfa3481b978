"""Converts facenet-pytorch's MTCNN weights into one safetensors file the crate embeds.

Run by hand (PyTorch stays out of CI and `cargo test`):

    python3 -m venv /tmp/fvenv
    /tmp/fvenv/bin/pip install torch torchvision scikit-image safetensors numpy pillow
    /tmp/fvenv/bin/pip install --no-deps facenet-pytorch==2.6.0   # it pins torch 2.2; 2.x works
    /tmp/fvenv/bin/python tools/faces/convert_mtcnn.py

Reads `facenet_pytorch/data/{pnet,rnet,onet}.pt` (state dicts of the MTCNN of Zhang et al.
2016 as ported from the original Caffe models by facenet-pytorch, MIT licence) and writes
`assets/faces/mtcnn.safetensors`: f32, keys `pnet.conv1.weight`, ... in PyTorch layouts
(conv `[out, in, kh, kw]`, linear `[out, in]`, PReLU `[channels]`), plus the wheel's licence
next to it as `assets/faces/LICENSE-facenet-pytorch`.
"""

import importlib.metadata
import os

import facenet_pytorch
import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "assets", "faces")


def main():
    data_dir = os.path.join(os.path.dirname(facenet_pytorch.__file__), "data")
    tensors = {}
    for net in ("pnet", "rnet", "onet"):
        state = torch.load(os.path.join(data_dir, f"{net}.pt"), map_location="cpu")
        for key, value in state.items():
            tensors[f"{net}.{key}"] = value.detach().to(torch.float32).contiguous()
    os.makedirs(OUT, exist_ok=True)
    version = importlib.metadata.version("facenet-pytorch")
    save_file(
        tensors,
        os.path.join(OUT, "mtcnn.safetensors"),
        metadata={"source": f"facenet-pytorch {version} data/{{pnet,rnet,onet}}.pt", "licence": "MIT"},
    )
    dist = importlib.metadata.distribution("facenet-pytorch")
    licence = None
    for f in dist.files or []:
        if f.name.upper().startswith("LICENSE"):
            licence = f.read_text()
    if licence is None:
        raise SystemExit("facenet-pytorch's wheel has no LICENSE file in its metadata")
    with open(os.path.join(OUT, "LICENSE-facenet-pytorch"), "w") as fh:
        fh.write(licence)
    for key in sorted(tensors):
        print(key, tuple(tensors[key].shape))


if __name__ == "__main__":
    main()
