"""llama.cpp side of `vitrine bench` (run inside the bench's own venv).

Reads one JSON request on stdin: {"model": PATH, "threads": N,
"prompt_ids": [...], "gen_tokens": G, "n_ctx": C}; evaluates the same token
ids as Vitrine (one batch), then G greedy steps, and prints
{"prompt_s": x, "gen_s": y} on stdout. Model loading is not timed.
"""
import json
import sys
import time

import llama_cpp


def main() -> None:
    req = json.load(sys.stdin)
    ids = req["prompt_ids"]
    llm = llama_cpp.Llama(
        model_path=req["model"],
        n_ctx=req["n_ctx"],
        n_batch=max(512, len(ids)),
        n_ubatch=max(512, len(ids)),
        n_threads=req["threads"],
        n_threads_batch=req["threads"],
        verbose=False,
    )
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(ids)
    prompt_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(req["gen_tokens"]):
        tok = llm.sample(top_k=1, temp=0.0, repeat_penalty=1.0, min_p=0.0, top_p=1.0)
        llm.eval([tok])
    gen_s = time.perf_counter() - t0
    print(json.dumps({"prompt_s": prompt_s, "gen_s": gen_s}))


if __name__ == "__main__":
    main()
