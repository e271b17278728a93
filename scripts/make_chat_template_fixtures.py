#!/usr/bin/env python3
"""Write the chat-template fixtures: real chat templates rendered by the
reference Jinja2 setup (llama-cpp-python's Jinja2ChatFormatter, which mirrors
Transformers': trim_blocks, lstrip_blocks, raise_exception, tojson).

The Rust test (crates/vitrine-infer/tests/chat_templates.rs) renders the same
conversations with vitrine-infer's minijinja setup and compares.

    .venv-llamacpp/bin/python scripts/make_chat_template_fixtures.py VOCAB_DIR MODELS_DIR

Templates: the *.jinja files in crates/vitrine-infer/tests/fixtures/chat_templates
(see SOURCES.md there), and the `tokenizer.chat_template` of the vocabulary
GGUFs in VOCAB_DIR (scripts/fetch-test-vocab.sh fetches them) and of the
manifest's models in MODELS_DIR.
"""
import json
import pathlib
import sys

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/vitrine-infer/tests/fixtures/chat_templates"

# (file, bos text, eos text) as the models' GGUFs name them.
FILES = [
    ("qwen3.jinja", "<|endoftext|>", "<|im_end|>"),
    ("gemma3.jinja", "<bos>", "<eos>"),
    ("phi3.5.jinja", "<s>", "<|endoftext|>"),
    ("gemma2.jinja", "<bos>", "<eos>"),
]
GGUFS = ["ggml-vocab-phi-3.gguf", "ggml-vocab-qwen2.gguf"]
MODELS = {
    "smollm2-135m": "smollm2-135m-instruct-q4_1.gguf",
    "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    "qwen2.5-coder-1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
}

SYSTEM = "You are a copywriter for an online shop. Answer in English."
CONVERSATIONS = {
    "system_user": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Write a title for a navy cotton hoodie."},
    ],
    "user": [{"role": "user", "content": "  Hi there  "}],
    "multi_turn": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Write a title for a navy cotton hoodie."},
        {"role": "assistant", "content": "Navy Cotton Hoodie — Soft, Warm, Everyday"},
        {"role": "user", "content": "Shorter, please.\n"},
    ],
}


def fold_system(messages):
    """Vitrine's fallback for templates without a system turn (they raise on
    it, or drop it): the system text goes before the first user message."""
    if len(messages) < 2 or messages[0]["role"] != "system" or messages[1]["role"] != "user":
        return None
    first = dict(messages[1], content=messages[0]["content"] + "\n\n" + messages[1]["content"])
    return [first] + messages[2:]


def render(src, bos, eos, messages, extra):
    fmt = Jinja2ChatFormatter(template=src, eos_token=eos, bos_token=bos, add_generation_prompt=True)
    try:
        prompt = fmt(messages=messages, **extra).prompt
    except ValueError:  # raise_exception()
        prompt = None
    systems = [m["content"].strip() for m in messages if m["role"] == "system"]
    if prompt is not None and all(s in prompt for s in systems):
        return prompt
    folded = fold_system(messages)
    if folded is None:
        raise SystemExit(f"template cannot render {messages!r}")
    return fmt(messages=folded, **extra).prompt


def gguf_template(path: pathlib.Path):
    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    meta = llm.metadata
    src = meta.get("tokenizer.chat_template")
    if src is None:
        return None
    vocab = llm._model.vocab
    text = lambda key: llama_cpp.llama_vocab_get_text(vocab, int(meta[key])).decode("utf-8") if key in meta else ""
    return src, text("tokenizer.ggml.bos_token_id"), text("tokenizer.ggml.eos_token_id")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    vocab_dir, models_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    templates = [(f, (FIXTURES / f).read_text(encoding="utf-8"), bos, eos) for f, bos, eos in FILES]
    for name in GGUFS:
        found = gguf_template(vocab_dir / name)
        if found:
            templates.append((f"gguf:{name}", *found))
    for model_id, name in MODELS.items():
        found = gguf_template(models_dir / name)
        if found:
            templates.append((f"model:{model_id}", *found))

    cases = []
    for name, src, bos, eos in templates:
        variants = [{}]
        if "enable_thinking" in src:
            variants.append({"enable_thinking": False})
        for conv, messages in CONVERSATIONS.items():
            for extra in variants:
                prompt = render(src, bos, eos, messages, extra)
                cases.append({
                    "template": name, "bos": bos, "eos": eos, "conversation": conv,
                    "messages": messages, **extra, "expected": prompt,
                })
    out = FIXTURES / "expected.json"
    out.write_text(json.dumps({"producer": f"llama-cpp-python {llama_cpp.__version__} Jinja2ChatFormatter",
                               "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
