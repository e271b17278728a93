#!/usr/bin/env bash
# Build the `vitrine` CLI with the `cuda` feature on a machine that has no GPU
# and no system CUDA toolkit, from NVIDIA's PyPI wheels.
#
#   scripts/build-cuda.sh [--arch 90] [--out DIR]
#
# --arch  compute capability the kernels are compiled for (default 90: H100/H200)
# --out   also leave in DIR what a GPU machine needs: the stripped binary,
#         gzipped (70 MB of it is PTX and cubins, which shrink to ~20 MB),
#         the CUDA runtime library and run.sh, which unpacks and runs it
#
# The toolkit is CUDA 13.0 on purpose: candle loads most kernels as PTX, which
# the driver JIT-compiles, and a driver only accepts PTX from a toolkit no newer
# than itself (driver 580 = CUDA 13.0). Raise CUDA_WHEELS only with the oldest
# driver you need to support.
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=90
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "build-cuda.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

KIT="${VITRINE_CUDA_KIT:-$HOME/.cache/vitrine/cuda-kit}"
CUDA_WHEELS=(
  nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88
  nvidia-cuda-cccl==13.0.85 nvidia-cuda-runtime==13.0.96 nvidia-cuda-nvrtc==13.0.88
  nvidia-curand==10.4.0.35 nvidia-cublas==13.1.0.3
)
ROOT="$KIT/site/nvidia/cu13"

say() { printf '\n==> %s\n' "$*"; }

# --- toolkit from wheels -----------------------------------------------------
if [ ! -x "$ROOT/bin/nvcc" ]; then
  say "Installing the CUDA 13.0 toolkit wheels into $KIT"
  mkdir -p "$KIT"
  python3 -m pip install --quiet --no-deps --target "$KIT/site" "${CUDA_WHEELS[@]}"
fi

# The wheels ship only versioned sonames; the linker looks for lib<name>.so.
for lib in cudart:libcudart.so.13 cublas:libcublas.so.13 cublasLt:libcublasLt.so.13 \
           curand:libcurand.so.10 nvrtc:libnvrtc.so.13; do
  ln -sf "${lib#*:}" "$ROOT/lib/lib${lib%%:*}.so"
done

# libcuda.so belongs to the driver, which no wheel ships. cudarc links it
# dynamically, so the link needs a library that merely defines the driver API's
# symbols under the soname libcuda.so.1 -- what the toolkit's lib/stubs holds.
# We generate it from the toolkit's own cuda.h. It is used at link time only:
# at run time the loader finds the real libcuda.so.1 of the installed driver.
STUB="$ROOT/lib/stubs/libcuda.so"
if [ ! -f "$STUB" ]; then
  say "Generating the link-time libcuda stub from cuda.h"
  mkdir -p "$ROOT/lib/stubs"
  gcc -E -P -I"$ROOT/include" "$ROOT/include/cuda.h" \
    | grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( \t' | sort -u \
    | sed 's/.*/void &(void) {}/' > "$ROOT/lib/stubs/libcuda-stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$STUB" "$ROOT/lib/stubs/libcuda-stub.c"
fi

# --- build ---------------------------------------------------------------------
export CUDA_ROOT="$ROOT" CUDA_HOME="$ROOT" CUDA_PATH="$ROOT"
export PATH="$ROOT/bin:$PATH"
export CUDA_COMPUTE_CAP="$ARCH"   # no nvidia-smi here to ask
export NVCC_CCBIN="${NVCC_CCBIN:-$(command -v g++)}"
say "Building vitrine with --features cuda (sm_$ARCH, $(nvcc --version | grep -o 'release [0-9.]*'))"
cargo build --release -p vitrine-cli --features cuda

[ -z "$OUT" ] && exit 0
BIN="${CARGO_TARGET_DIR:-target}/release/vitrine"
mkdir -p "$OUT"
rm -f "$OUT/vitrine"
strip -o "$OUT/vitrine.stripped" "$BIN"
gzip -9 -c "$OUT/vitrine.stripped" > "$OUT/vitrine.gz"
rm "$OUT/vitrine.stripped"
# The CUDA runtime is small enough to carry; cuBLAS (600 MB), cuRAND and NVRTC
# (100+ MB each) come from the GPU machine's CUDA 13 install.
mkdir -p "$OUT/lib"
cp -L "$ROOT/lib/libcudart.so.13" "$OUT/lib/"
cat > "$OUT/run.sh" <<'EOF'
#!/usr/bin/env bash
# Run the CUDA build of vitrine on a GPU machine. Besides the driver's
# libcuda.so.1 and the bundled lib/libcudart.so.13 it needs the CUDA 13
# libraries libcublas.so.13 (with libcublasLt.so.13) and libcurand.so.10: from
# a CUDA 13 toolkit (/usr/local/cuda/lib64) or PyTorch's nvidia/cu13/lib, found
# here on their own, or named with CUDA_LIBS=DIR.
#   run.sh            --version and `--device cuda models list`
#   run.sh ARGS...    vitrine ARGS...
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="$HERE/vitrine"
if [ ! -x "$BIN" ]; then
  [ -w "$HERE" ] || BIN="${TMPDIR:-/tmp}/vitrine-cuda"
  gzip -dc "$HERE/vitrine.gz" > "$BIN.part" && chmod +x "$BIN.part" && mv "$BIN.part" "$BIN"
fi
dirs="$HERE/lib"
[ -n "${CUDA_LIBS:-}" ] && dirs="$dirs:$CUDA_LIBS"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64; do
  [ -d "$d" ] && dirs="$dirs:$d"
done
# PyTorch's CUDA 13 wheels keep the libraries in site-packages/nvidia/cu13/lib.
for py in python3 python; do
  command -v "$py" >/dev/null || continue
  d="$("$py" -c 'import nvidia, os; print(next((os.path.join(p, "cu13", "lib") for p in nvidia.__path__ if os.path.isdir(os.path.join(p, "cu13", "lib"))), ""))' 2>/dev/null || true)"
  [ -n "$d" ] && dirs="$dirs:$d" && break
done
export LD_LIBRARY_PATH="$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ $# -gt 0 ]; then exec "$BIN" "$@"; fi
"$BIN" --version
"$BIN" --device cuda models list
EOF
chmod +x "$OUT/run.sh"
say "Wrote $OUT/vitrine.gz, $OUT/lib and $OUT/run.sh"
