#!/usr/bin/env python3
"""Drive `vitrine serve`'s OpenAI-compatible endpoint with the official
`openai` SDK, as any other tool would: list the models, one whole and one
streamed chat completion, and an error. Exits non-zero on any mismatch.

Usage: openai-sdk-check.py BASE_URL TOKEN MODEL   (BASE_URL ends in /v1)
"""
import sys

import openai
from openai import OpenAI


def main() -> int:
    base_url, token, model = sys.argv[1:4]
    client = OpenAI(base_url=base_url, api_key=token, max_retries=0, timeout=600)

    ids = [m.id for m in client.models.list()]
    assert model in ids, f"{model} not in {ids}"

    messages = [
        {"role": "system", "content": "You write short product copy."},
        {"role": "user", "content": "One sentence about a navy linen shirt."},
    ]
    whole = client.chat.completions.create(
        model=model, messages=messages, temperature=0, max_tokens=20, seed=3
    )
    text = whole.choices[0].message.content
    assert text and text.strip(), f"empty reply: {whole}"
    assert whole.choices[0].finish_reason in ("stop", "length"), whole
    assert whole.usage.completion_tokens <= 20, whole.usage

    pieces = []
    finish = None
    stream = client.chat.completions.create(
        model=model, messages=messages, temperature=0, max_tokens=20, seed=3, stream=True
    )
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            if delta.content:
                pieces.append(delta.content)
            finish = chunk.choices[0].finish_reason or finish
    streamed = "".join(pieces)
    assert streamed == text, f"streamed {streamed!r} != whole {text!r}"
    assert finish in ("stop", "length"), finish

    try:
        client.chat.completions.create(model="no-such-model", messages=messages)
        raise AssertionError("an unknown model was accepted")
    except openai.NotFoundError as e:
        assert "no-such-model" in str(e), e

    bad = OpenAI(base_url=base_url, api_key="vtr_wrong", max_retries=0)
    try:
        bad.models.list()
        raise AssertionError("a wrong token was accepted")
    except openai.AuthenticationError:
        pass

    print(f"openai {openai.__version__}: models, whole and streamed completions agree: {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
