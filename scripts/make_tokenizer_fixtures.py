#!/usr/bin/env python3
"""Write the tokenizer fixtures: llama.cpp's token ids for fixed strings.

Run once per model or vocabulary whenever the strings change; the output is
committed and the Rust tests (crates/vitrine-infer/tests/tokenizer_fixtures.rs)
compare vitrine-infer's tokenizer against it.

    python3 -m venv .venv-llamacpp && .venv-llamacpp/bin/pip install llama-cpp-python==0.3.36
    .venv-llamacpp/bin/python scripts/make_tokenizer_fixtures.py ID GGUF_PATH [--inp FILE]

ID names the fixture file. --inp adds the strings of one of llama.cpp's own
tokenizer test inputs (models/ggml-vocab-*.gguf.inp in the llama-cpp-python
sdist, next to the vocab files scripts/fetch-test-vocab.sh extracts); their
ids still come from llama.cpp, and the strings end up in the fixture.

Only the vocabulary is loaded (vocab_only), so this is quick even for large
models. Special-token markup is parsed (special=True) and no BOS is added,
which is how Vitrine encodes its rendered chat prompts. Each case also keeps
llama.cpp's detokenized text (llama_detokenize without removing or rendering
special tokens), and the fixture keeps the vocabulary's BOS, its add-BOS flag
and the ids llama.cpp treats as end of generation.
"""
import argparse
import ctypes
import json
import pathlib

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

# Chat markup of the SentencePiece models (Phi-3, Gemma 3): control tokens
# with the text around them, including the whitespace llama.cpp strips; and
# end markers llama.cpp turns into control tokens whatever the GGUF says.
MARKUP = [
    "<s><|user|>\nWrite a title for a navy hoodie.<|end|>\n<|assistant|>\n",
    "<|system|>\nYou are a copywriter.<|end|>\n<|user|>  Hi <|end|>\n",
    "<bos><start_of_turn>user\nYou are a copywriter.\n\nWrite a title.<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\n\n\n\tindented\n  two spaces<end_of_turn>\n",
    "Done.</s> next<|endoftext|>then <unk> and <s> and <eos>",
]


def detokenize(vocab, ids):
    arr = (llama_cpp.llama_token * len(ids))(*ids)
    size = 64 + 16 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, False, False)
    if n < 0:
        raise RuntimeError("detokenize buffer too small")
    return buf.raw[:n].decode("utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("id")
    ap.add_argument("gguf")
    ap.add_argument("--inp", help="a llama.cpp ggml-vocab-*.gguf.inp file whose strings to add")
    args = ap.parse_args()

    strings = STRINGS + MARKUP
    if args.inp:
        text = pathlib.Path(args.inp).read_text(encoding="utf-8")
        strings += [s for s in text.split("\n__ggml_vocab_test__\n") if s not in strings]

    llm = llama_cpp.Llama(model_path=args.gguf, vocab_only=True, verbose=False)
    vocab = llm._model.vocab
    cases = []
    for text in strings:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        cases.append({"text": text, "ids": ids, "decoded": detokenize(vocab, ids)})
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    eog = [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)]
    out = pathlib.Path(__file__).resolve().parent.parent / "crates/vitrine-infer/tests/fixtures/tokenizer" / f"{args.id}.json"
    out.write_text(json.dumps({
        "model": args.id,
        "gguf": pathlib.Path(args.gguf).name,
        "producer": f"llama-cpp-python {llama_cpp.__version__}",
        "bos": llama_cpp.llama_vocab_bos(vocab),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "eog": eog,
        "cases": cases,
    }, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
