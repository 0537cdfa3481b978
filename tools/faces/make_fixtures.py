"""Reference fixtures for `src/faces` (MTCNN detection, tracking), run by hand.

Needs the venv of `convert_mtcnn.py` (torch, torchvision, facenet-pytorch 2.6.0 installed
with --no-deps, scikit-image, pillow) and the `ffmpeg` command with libx264:

    /tmp/fvenv/bin/python tools/faces/make_fixtures.py

Writes into `tests/fixtures/faces/`:

* Photos (PNG, public domain, from scikit-image's `skimage/data`): `astronaut.png`
  (Eileen Collins, downscaled to 256²), `camera.png` (the cameraman, grey → RGB, 256²),
  `coffee.png` (no face, 256×171) and `two_faces.png` (a 320×240 composite: the coffee
  picture with the astronaut's portrait pasted at two sizes).
* `detections.json`: for each photo, what facenet-pytorch's `detect_face` (the function
  behind `MTCNN.detect`) returns with min_face_size 20, thresholds [0.6, 0.7, 0.7],
  factor 0.709: boxes (x0, y0, x1, y1 px), probabilities and 5 landmarks per face (left eye,
  right eye, nose, mouth left, mouth right), in facenet-pytorch's order.
* `nets.json`: raw P-, R- and O-Net outputs on fixed crops of `astronaut.png` (normalised
  as MTCNN does, (x - 127.5) * 0.0078125), to check the networks alone.
* Videos (H.264, 320×240, 25 fps, 3 s): frames are rendered here from the 512² astronaut
  portrait with PIL affine warps (bilinear) and piped to ffmpeg as raw RGB, so the true
  face position of every frame is known:
  `pan.mp4` (the view slides left/right and down), `zoom.mp4` (scale 0.55 → 0.95),
  `rotate.mp4` (in-plane rotation ±20°), `cut.mp4` (13 frames, 0.52 s, of the coffee
  picture in the middle: no face), `two_faces.mp4` (a second, smaller copy of the portrait
  moving over the bottom right; the main face is the big one).
  `videos.json` gives per frame the main face's box as the still-image MTCNN box mapped
  through that frame's warp (null where there is no face).
"""

import json
import math
import os
import subprocess

import numpy as np
import skimage
import torch
from PIL import Image
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils.detect_face import detect_face

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "faces")
SKDATA = os.path.join(os.path.dirname(skimage.__file__), "data")
MIN_FACE, THRESHOLDS, FACTOR = 20, [0.6, 0.7, 0.7], 0.709
FPS, FRAMES, VW, VH = 25, 75, 320, 240

mtcnn = MTCNN(device="cpu")


def detect(img):
    with torch.no_grad():
        boxes, points = detect_face(
            img, MIN_FACE, mtcnn.pnet, mtcnn.rnet, mtcnn.onet, THRESHOLDS, FACTOR, "cpu"
        )
    b = np.asarray(boxes[0].tolist(), dtype=np.float64).reshape(-1, 5)
    p = np.asarray(points[0].tolist(), dtype=np.float64).reshape(-1, 5, 2)
    return b, p


def source(name):
    return Image.open(os.path.join(SKDATA, name)).convert("RGB")


def save_png(img, name):
    path = os.path.join(OUT, name)
    img.save(path, optimize=True)
    # Detect on what a reader of the PNG gets back.
    return Image.open(path).convert("RGB")


def photos():
    astro = source("astronaut.png")
    coffee = source("coffee.png")
    made = {
        "astronaut.png": astro.resize((256, 256), Image.BILINEAR),
        "camera.png": source("camera.png").resize((256, 256), Image.BILINEAR),
        "coffee.png": coffee.resize((256, 171), Image.BILINEAR),
    }
    canvas = coffee.resize((320, 240), Image.BILINEAR)
    portrait = astro.crop((120, 0, 330, 240))
    canvas.paste(portrait.resize((105, 120), Image.BILINEAR), (20, 40))
    canvas.paste(portrait.resize((53, 60), Image.BILINEAR), (230, 120))
    made["two_faces.png"] = canvas
    out = {}
    for name, img in made.items():
        img = save_png(img, name)
        boxes, points = detect(img)
        out[name] = {
            "width": img.width,
            "height": img.height,
            "faces": [
                {"bbox": b[:4].tolist(), "score": float(b[4]), "landmarks": p.tolist()}
                for b, p in zip(boxes, points)
            ],
        }
        print(name, img.size, np.round(boxes, 2).tolist())
    return out


def nets():
    img = np.asarray(Image.open(os.path.join(OUT, "astronaut.png")).convert("RGB"), np.float32)
    norm = lambda a: torch.from_numpy((a - 127.5) * 0.0078125).permute(2, 0, 1).unsqueeze(0)
    crops = {"pnet": (30, 90, 40, 30), "rnet": [(40, 95, 24), (0, 0, 24)], "onet": [(30, 88, 48), (150, 150, 48)]}
    out = {"crops": crops}
    with torch.no_grad():
        y, x, h, w = crops["pnet"]
        reg, prob = mtcnn.pnet(norm(img[y:y + h, x:x + w]))
        out["pnet"] = {"reg": reg[0].flatten().tolist(), "reg_shape": list(reg.shape[1:]), "prob": prob[0].flatten().tolist()}
        r = torch.cat([norm(img[y:y + s, x:x + s]) for y, x, s in crops["rnet"]])
        reg, prob = mtcnn.rnet(r)
        out["rnet"] = {"reg": reg.tolist(), "prob": prob.tolist()}
        o = torch.cat([norm(img[y:y + s, x:x + s]) for y, x, s in crops["onet"]])
        reg, pts, prob = mtcnn.onet(o)
        out["onet"] = {"reg": reg.tolist(), "points": pts.tolist(), "prob": prob.tolist()}
    return out


def affine_frame(src, scale, angle, cx, cy):
    """Renders VW×VH with src point (cx, cy) at the frame centre, src scaled by `scale` and
    rotated by `angle` (radians, counter-clockwise on screen). Returns the frame and the map
    src → frame."""
    c, s = math.cos(angle), math.sin(angle)
    # frame = R·scale·(src - (cx, cy)) + (VW/2, VH/2), with y down: rotation by -angle in
    # image coordinates turns the picture counter-clockwise on screen.
    fwd = np.array([[scale * c, scale * s], [-scale * s, scale * c]])
    t = np.array([VW / 2, VH / 2]) - fwd @ np.array([cx, cy])
    inv = np.linalg.inv(fwd)
    tinv = -inv @ t
    data = (inv[0, 0], inv[0, 1], tinv[0], inv[1, 0], inv[1, 1], tinv[1])
    frame = src.transform((VW, VH), Image.AFFINE, data, resample=Image.BILINEAR)
    return frame, (fwd, t)


def map_box(box, m):
    fwd, t = m
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) @ fwd.T + t
    centre = ((x0 + x1) / 2, (y0 + y1) / 2) @ fwd.T + t
    scale = math.sqrt(abs(np.linalg.det(fwd)))
    hw, hh = (x1 - x0) * scale / 2, (y1 - y0) * scale / 2
    # The upright box of the same size around the mapped centre (what a detector returns).
    del corners
    return [centre[0] - hw, centre[1] - hh, centre[0] + hw, centre[1] + hh]


def encode(frames, name):
    path = os.path.join(OUT, name)
    cmd = [
        "ffmpeg", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{VW}x{VH}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "slow",
        "-crf", "26", "-pix_fmt", "yuv420p", "-g", "25", path,
    ]
    raw = b"".join(np.asarray(f, np.uint8).tobytes() for f in frames)
    subprocess.run(cmd, input=raw, check=True)


def videos():
    astro = source("astronaut.png")
    coffee = source("coffee.png").resize((VW, VH), Image.BILINEAR)
    (face_box,), _ = detect(astro)
    face_box = face_box[:4].tolist()
    fcx, fcy = (face_box[0] + face_box[2]) / 2, (face_box[1] + face_box[3]) / 2
    out = {"fps": FPS, "width": VW, "height": VH, "source_face_box": face_box, "videos": {}}

    def clip(name, params, blank=lambda i: False, extra=None):
        frames, truth = [], []
        for i in range(FRAMES):
            if blank(i):
                frames.append(coffee)
                truth.append(None)
                continue
            scale, angle, cx, cy = params(i / FPS)
            frame, m = affine_frame(astro, scale, angle, cx, cy)
            if extra is not None:
                frame = extra(frame, i / FPS)
            frames.append(frame)
            truth.append([round(v, 2) for v in map_box(face_box, m)])
        encode(frames, name)
        out["videos"][name] = {"frames": FRAMES, "main_face": truth}
        print(name, sum(t is not None for t in truth), "frames with a face")

    clip("pan.mp4", lambda t: (0.7, 0.0, fcx + 60 * math.sin(2 * math.pi * t / 3), fcy + 40 - 30 * t / 3))
    clip("zoom.mp4", lambda t: (0.55 + 0.4 * t / 3, 0.0, fcx, fcy + 20))
    clip("rotate.mp4", lambda t: (0.75, math.radians(20) * math.sin(2 * math.pi * t / 3), fcx, fcy + 30))
    clip("cut.mp4", lambda t: (0.75, 0.0, fcx, fcy + 30), blank=lambda i: 31 <= i < 44)
    small = astro.crop((120, 0, 330, 240)).resize((70, 80), Image.BILINEAR)

    def paste_small(frame, t):
        frame = frame.copy()
        frame.paste(small, (int(225 + 15 * math.sin(2 * math.pi * t / 3)), 140))
        return frame

    clip("two_faces.mp4", lambda t: (0.8, 0.0, fcx + 70, fcy + 25), extra=paste_small)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    params = {"min_face_size": MIN_FACE, "thresholds": THRESHOLDS, "factor": FACTOR,
              "reference": "facenet-pytorch 2.6.0 detect_face, torch " + torch.__version__}
    with open(os.path.join(OUT, "detections.json"), "w") as fh:
        json.dump({"params": params, "images": photos()}, fh, indent=1)
    with open(os.path.join(OUT, "nets.json"), "w") as fh:
        json.dump(nets(), fh)
    with open(os.path.join(OUT, "videos.json"), "w") as fh:
        json.dump(videos(), fh)


if __name__ == "__main__":
    main()
