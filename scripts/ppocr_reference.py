#!/usr/bin/env python3
"""Reference outputs of the PP-OCRv4 models from onnxruntime.

Writes crates/vitrine-infer/tests/fixtures/ppocr_v4_reference.json: for each
of the three ONNX models of the `rapidocr-onnxruntime==1.4.4` wheel (text
detector, direction classifier, line recogniser), its output on a synthetic
"printed text" input, computed by onnxruntime. The Rust test
(crates/vitrine-infer/tests/ocr.rs) builds the same input, runs the model
through candle-onnx after Vitrine's graph lowering, and compares. Nothing
here is shared with the Rust code.

    python3 -m venv /tmp/ort-venv && /tmp/ort-venv/bin/pip install numpy onnxruntime
    /tmp/ort-venv/bin/python scripts/ppocr_reference.py MODELS_DIR/ppocr-v4

The input (1 x C x H x W, already normalised to [-1, 1]): white (1.0) with
"ink" (-1.0) where (y // 16) % 4 == 1 and (x // 5) % 3 != 0 and
32 <= x < W - 32 (rows of dashes, which the detector takes for text), minus
k * 0.2 * (x / (W - 1) - 0.5) in channel k (so the channels differ).
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnxruntime as ort

MODELS = [
    ("ch_PP-OCRv4_det_infer.onnx", (3, 256, 320)),
    ("ch_PP-OCRv4_rec_infer.onnx", (3, 48, 320)),
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (3, 48, 192)),
]
EVEN_SAMPLES = 48
TOP_SAMPLES = 16


def pattern(c, h, w):
    y, x = np.mgrid[0:h, 0:w]
    ink = ((y // 16) % 4 == 1) & ((x // 5) % 3 != 0) & (x >= 32) & (x < w - 32)
    img = np.where(ink, -1.0, 1.0)
    ramp = (x / (w - 1) - 0.5) * 0.2
    return np.stack([img - ramp * k for k in range(c)])[None].astype(np.float32)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    models_dir = sys.argv[1]
    out = {"generator": "scripts/ppocr_reference.py", "onnxruntime": ort.__version__, "models": []}
    for name, shape in MODELS:
        path = os.path.join(models_dir, name)
        with open(path, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        y = session.run(None, {session.get_inputs()[0].name: pattern(*shape)})[0]
        flat = y.reshape(-1).astype(np.float64)
        even = np.linspace(0, flat.size - 1, EVEN_SAMPLES).round().astype(int)
        top = np.argsort(-flat, kind="stable")[:TOP_SAMPLES]
        idx = sorted(set(even.tolist()) | set(top.tolist()))
        out["models"].append({
            "file": name,
            "sha256": sha,
            "input_shape": [1, *shape],
            "output_shape": list(y.shape),
            "sum": float(flat.sum()),
            "max": float(flat.max()),
            "samples": [[i, float(flat[i])] for i in idx],
        })
    dst = os.path.join(os.path.dirname(__file__), "..", "crates", "vitrine-infer", "tests",
                       "fixtures", "ppocr_v4_reference.json")
    with open(dst, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(dst))


if __name__ == "__main__":
    main()
