#!/usr/bin/env python3
"""Write the tokenizer fixtures: llama.cpp's token ids for fixed strings.

Run once per model whenever the strings change; the output is committed and
the Rust tests compare vitrine-infer's tokenizer against it.

    python3 -m venv .venv-llamacpp && .venv-llamacpp/bin/pip install llama-cpp-python==0.3.36
    .venv-llamacpp/bin/python scripts/make_tokenizer_fixtures.py MODEL_ID GGUF_PATH

Only the vocabulary is loaded (vocab_only), so this is quick even for large
models. Special-token markup is parsed (special=True) and no BOS is added,
which is how Vitrine encodes its rendered chat prompts.
"""
import json
import pathlib
import sys

import llama_cpp

STRINGS = [
    "Hello world",
    " Hello  world,\tagain\n\nNew paragraph.",
    "Navy hoodie, 100% cotton — size M/L; price $39.99!",
    "Product ID 1234567890 and 3.14159 and 2026-11-28",
    "适合春秋季节穿着的藏青色连帽卫衣，纯棉面料，柔软舒适。",
    "中英混合 mixed text：价格 ¥199，库存 42 件。",
    "<|im_start|>system\nYou are a copywriter.<|im_end|>\n<|im_start|>user\nWrite a title.<|im_end|>\n<|im_start|>assistant\n",
    "{\"title\": \"Blue Hoodie\", \"bullets\": [\"Soft\", \"Warm\"]}",
    "don't won't I'm we've they'll she'd IT'S",
    "emoji 👕👖 and accents café naïve",
    "   leading spaces and trailing   ",
    "line one\r\nline two\r\n",
]


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_id, path = sys.argv[1], sys.argv[2]
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    cases = []
    for text in STRINGS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        cases.append({"text": text, "ids": ids})
    out = pathlib.Path(__file__).resolve().parent.parent / "crates/vitrine-infer/tests/fixtures/tokenizer" / f"{model_id}.json"
    out.write_text(json.dumps({"model": model_id, "producer": f"llama-cpp-python {llama_cpp.__version__}", "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
