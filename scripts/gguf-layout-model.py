#!/usr/bin/env python3
# Rebuild a GGUF with exactly the layout of a real one (its header: metadata,
# tokenizer, tensor shapes and quantization types) and generated weights, on
# a machine the real file cannot be carried to (the lent GPU machine takes
# 64 MiB per call). Throughput depends on shapes and formats, not on weight
# values, so `vitrine bench` on the result measures what the real file would.
#
#   here:   python3 -m pip install gguf; then write layout.json and header.bin
#           with `gguf-layout-model.py --describe MODEL.gguf DIR`
#   there:  python3 gguf-layout-model.py DIR OUT.gguf   (needs numpy)
# Handles F32, Q4_K and Q6_K tensors (the Q4_K_M files Vitrine ships).
import json, sys
import numpy as np

if len(sys.argv) == 4 and sys.argv[1] == "--describe":
    import os
    from gguf import GGUFReader

    src, folder = sys.argv[2], sys.argv[3]
    r = GGUFReader(src)
    tensors = [
        {"name": t.name, "type": t.tensor_type.name, "offset": int(t.data_offset), "bytes": int(t.n_bytes)}
        for t in r.tensors
    ]
    desc = {"data_offset": int(r.data_offset), "size": os.path.getsize(src), "tensors": tensors}
    json.dump(desc, open(os.path.join(folder, "layout.json"), "w"))
    with open(src, "rb") as f:
        open(os.path.join(folder, "header.bin"), "wb").write(f.read(int(r.data_offset)))
    sys.exit(0)

folder, out = sys.argv[1], sys.argv[2]
layout = json.load(open(f"{folder}/layout.json"))
buf = np.zeros(layout["size"], dtype=np.uint8)
header = np.fromfile(f"{folder}/header.bin", dtype=np.uint8)
buf[: len(header)] = header
rng = np.random.default_rng(0)
scale = np.frombuffer(np.float16(0.002).tobytes(), dtype=np.uint8)
for t in layout["tensors"]:
    o, n = t["offset"], t["bytes"]
    v = buf[o : o + n]
    if t["type"] == "F32":
        v.view(np.float32)[:] = 1.0 if "norm" in t["name"] else 0.01
        continue
    v[:] = rng.integers(0, 256, n, dtype=np.uint8)
    size = {"Q4_K": 144, "Q6_K": 210}[t["type"]]
    blocks = v.reshape(-1, size)
    if t["type"] == "Q4_K":
        blocks[:, 0:2] = scale
        blocks[:, 2:4] = scale
    else:
        blocks[:, 208:210] = scale
buf.tofile(out)
print("wrote", out, buf.size, "bytes")
