#!/usr/bin/env bash
# Set up Vitrine on a Debian machine: system packages, the UI's npm packages,
# a release build, models and sample photos. Safe to re-run: every step is a
# no-op when its work is already done.
#
#   scripts/setup.sh [--models "ID ..."] [--app] [--test-deps]
#
# --models    models to fetch (default: the default model, the photo classifier and OCR)
# --app       also build the desktop app (Tauri) and its UI
# --test-deps also install what the test suite needs (Xvfb, WebKitWebDriver, tauri-driver,
#             the tokenizer vocabularies of scripts/fetch-test-vocab.sh,
#             llama-cpp-python's server for the remote-backend tests)
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS=""
APP=0
TEST_DEPS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --models) MODELS="$2"; shift 2 ;;
    --app) APP=1; shift ;;
    --test-deps) TEST_DEPS=1; APP=1; shift ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup.sh: need root (or sudo) to run: $*" >&2; exit 1; fi
}

# --- Debian packages ---------------------------------------------------------
PKGS=(build-essential pkg-config libssl-dev protobuf-compiler python3 python3-pip python3-venv ca-certificates)
if [ "$APP" -eq 1 ]; then
  PKGS+=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev)
fi
if [ "$TEST_DEPS" -eq 1 ]; then
  # mesa-vulkan-drivers gives lavapipe, the software Vulkan the render tests use.
  # postgresql: the store suite also runs on a real PostgreSQL (scripts/test.sh).
  PKGS+=(xvfb xauth webkit2gtk-driver mesa-vulkan-drivers libvulkan1 postgresql)
fi
if command -v dpkg-query >/dev/null; then
  MISSING=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING+=("$p")
  done
  if ! command -v node >/dev/null && [ "$APP" -eq 1 ]; then MISSING+=(nodejs npm); fi
  if [ "${#MISSING[@]}" -gt 0 ]; then
    say "Installing Debian packages: ${MISSING[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${MISSING[@]}" >/dev/null
  fi
else
  echo "setup.sh: not a Debian system; install the equivalents of: ${PKGS[*]}" >&2
fi

# --- Rust toolchain ----------------------------------------------------------
if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null; then
  echo "setup.sh: Rust is missing. Install it with rustup (see the rustup site), then re-run." >&2
  exit 1
fi

# --- Desktop UI ---------------------------------------------------------------
if [ "$APP" -eq 1 ]; then
  NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$NODE_MAJOR" -lt 20 ]; then
    echo "setup.sh: the UI build needs Node.js 20 or newer (found $(node --version 2>/dev/null || echo none))" >&2
    exit 1
  fi
  say "Installing the UI's npm packages and building it"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi

# --- Build ----------------------------------------------------------------------
say "Building vitrine (release; the first build takes a while)"
cargo build --release --locked -p vitrine-cli
if [ "$APP" -eq 1 ]; then
  say "Building the desktop app"
  cargo build --release --locked -p vitrine-app
fi

if [ "$TEST_DEPS" -eq 1 ] && ! command -v tauri-driver >/dev/null; then
  say "Installing tauri-driver (WebDriver for the desktop app)"
  cargo install tauri-driver --version 2.1.0 --locked
fi

if [ "$TEST_DEPS" -eq 1 ]; then
  say "Fetching tokenizer vocabularies for the tests"
  scripts/fetch-test-vocab.sh
fi

# --- llama.cpp's server for the remote-backend tests ----------------------------
# The tests serve a GGUF with llama-cpp-python's OpenAI-compatible server from
# the venv `vitrine bench` uses (VITRINE_LLAMACPP_PYTHON overrides it). pip
# reuses a llama-cpp-python already built there or in its wheel cache; on a
# fresh machine it builds llama.cpp from source once.
LLAMACPP_PKG="llama-cpp-python[server]==0.3.36"
# llama.cpp builds for every instruction set the build machine reports
# (GGML_NATIVE), AMX included; on a VM that reports AMX without enabling it
# the server dies with an invalid opcode on its first request. Build for
# AVX2 and FMA instead, which every machine the tests run on has. The flags
# are stamped in the venv, so a build made with other flags is redone (and
# pip's wheel cache, which ignores CMAKE_ARGS, is bypassed for it).
LLAMACPP_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
# The server's own dependencies, as last tested (pip would otherwise take
# whatever is newest).
LLAMACPP_CONSTRAINTS="scripts/constraints/llamacpp-server.txt"
llamacpp_ready() {
  "$1" -c 'import llama_cpp, llama_cpp.server.app, uvicorn; assert llama_cpp.__version__ == "0.3.36"' \
    >/dev/null 2>&1
}
llamacpp_stamp() { echo "$LLAMACPP_PKG $LLAMACPP_CMAKE_ARGS"; }
if [ "$TEST_DEPS" -eq 1 ]; then
  if [ -n "${VITRINE_LLAMACPP_PYTHON:-}" ]; then
    if ! llamacpp_ready "$VITRINE_LLAMACPP_PYTHON"; then
      echo "setup.sh: VITRINE_LLAMACPP_PYTHON=$VITRINE_LLAMACPP_PYTHON lacks $LLAMACPP_PKG;" \
        "install it there or unset the variable" >&2
      exit 1
    fi
  else
    LLAMACPP_VENV="${VITRINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vitrine}/bench/llamacpp-venv"
    stamp="$LLAMACPP_VENV/.vitrine-build"
    if ! llamacpp_ready "$LLAMACPP_VENV/bin/python" \
      || [ "$(cat "$stamp" 2>/dev/null)" != "$(llamacpp_stamp)" ]; then
      say "Installing $LLAMACPP_PKG into $LLAMACPP_VENV (builds llama.cpp: several minutes)"
      [ -x "$LLAMACPP_VENV/bin/python" ] || python3 -m venv "$LLAMACPP_VENV"
      CMAKE_ARGS="$LLAMACPP_CMAKE_ARGS" "$LLAMACPP_VENV/bin/python" -m pip install -q \
        --disable-pip-version-check --no-cache-dir --force-reinstall \
        -c "$LLAMACPP_CONSTRAINTS" "$LLAMACPP_PKG"
      llamacpp_ready "$LLAMACPP_VENV/bin/python" || {
        echo "setup.sh: $LLAMACPP_PKG does not import in $LLAMACPP_VENV" >&2; exit 1; }
      llamacpp_stamp > "$stamp"
    fi
  fi
fi

# --- HTTP clients for `vitrine serve`'s tests ---------------------------------
# crates/vitrine-server/tests/sdk.rs drives the OpenAI-compatible endpoint
# with the official SDK, and tests/contract.rs runs schemathesis against the
# OpenAPI document, both from this venv (VITRINE_SDK_PYTHON overrides it).
OPENAI_PKG="openai==3.57.0"
SCHEMATHESIS_PKG="schemathesis==4.32.5"
if [ "$TEST_DEPS" -eq 1 ] && [ -z "${VITRINE_SDK_PYTHON:-}" ]; then
  SDK_VENV="${VITRINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vitrine}/serve/sdk-venv"
  if ! "$SDK_VENV/bin/python" -c 'import openai, schemathesis' >/dev/null 2>&1; then
    say "Installing $OPENAI_PKG and $SCHEMATHESIS_PKG into $SDK_VENV"
    [ -x "$SDK_VENV/bin/python" ] || python3 -m venv "$SDK_VENV"
    "$SDK_VENV/bin/python" -m pip install -q --disable-pip-version-check "$OPENAI_PKG" "$SCHEMATHESIS_PKG"
  fi
fi

# --- Models and samples -------------------------------------------------------
VITRINE=./target/release/vitrine
[ -n "${CARGO_TARGET_DIR:-}" ] && VITRINE="$CARGO_TARGET_DIR/release/vitrine"
say "Fetching models: ${MODELS:-default}"
# shellcheck disable=SC2086
"$VITRINE" models fetch $MODELS
say "Fetching sample photos"
"$VITRINE" samples fetch --dir assets/samples
