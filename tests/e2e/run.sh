#!/usr/bin/env bash
# End-to-end test of the desktop app through WebDriver, under Xvfb.
#
#   VITRINE_MODELS_DIR=/path/with/smollm2 E2E_PHOTO=/path/to/photo.png tests/e2e/run.sh [--build]
#
# --build (or E2E_BUILD=1) first builds the UI and the release app:
#   npm --prefix ui ci && npm --prefix ui run build && cargo build --release -p vitrine-app
# Needs: tauri-driver (cargo install tauri-driver --version 2.1.0 --locked),
# WebKitWebDriver (Debian: webkit2gtk-driver), xvfb-run (Debian: xvfb) unless
# a display is already set. Screenshots and the app's log go to $E2E_OUT
# (default tests/e2e/out). Exits non-zero when any test fails, or when the
# whole run passes E2E_TIMEOUT_S seconds (default 1800).
# E2E_ONLY=PATTERN runs only the tests whose name matches (e.g.
# E2E_ONLY=measure for the app's figures, written to $E2E_OUT/bench.json).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

build="${E2E_BUILD:-0}"
for arg in "$@"; do
  case "$arg" in
    --build) build=1 ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

die() { echo "e2e: $*" >&2; exit 1; }

: "${VITRINE_MODELS_DIR:?set VITRINE_MODELS_DIR to a models dir in which smollm2-135m is installed (vitrine models fetch smollm2-135m)}"
: "${E2E_PHOTO:?set E2E_PHOTO to a product photo (JPEG, PNG or WebP)}"
[ -f "$E2E_PHOTO" ] || die "E2E_PHOTO=$E2E_PHOTO is not a file"
[ -d "$VITRINE_MODELS_DIR" ] || die "VITRINE_MODELS_DIR=$VITRINE_MODELS_DIR is not a directory"
export VITRINE_MODELS_DIR E2E_PHOTO
export E2E_PHOTO="$(cd "$(dirname "$E2E_PHOTO")" && pwd)/$(basename "$E2E_PHOTO")"
export E2E_OUT="${E2E_OUT:-$here/out}"
export VITRINE_APP="${VITRINE_APP:-${CARGO_TARGET_DIR:-$root/target}/release/vitrine-app}"

if [ -z "${TAURI_DRIVER:-}" ]; then
  if [ -x "$HOME/.cargo/bin/tauri-driver" ]; then TAURI_DRIVER="$HOME/.cargo/bin/tauri-driver"
  else TAURI_DRIVER="$(command -v tauri-driver || true)"; fi
fi
[ -n "$TAURI_DRIVER" ] || die "tauri-driver not found: cargo install tauri-driver --version 2.1.0 --locked"
export TAURI_DRIVER
command -v WebKitWebDriver >/dev/null || die "WebKitWebDriver not found: apt-get install webkit2gtk-driver"

if [ "$build" = 1 ]; then
  (cd "$root" && npm --prefix ui ci --no-audit --no-fund && npm --prefix ui run build && cargo build --release -p vitrine-app)
fi
[ -x "$VITRINE_APP" ] || die "$VITRINE_APP is missing: run with --build, or: npm --prefix ui run build && cargo build --release -p vitrine-app"

if [ ! -d "$here/node_modules/selenium-webdriver" ]; then
  npm --prefix "$here" ci --no-audit --no-fund
fi

mkdir -p "$E2E_OUT"
rm -f "$E2E_OUT"/*.png "$E2E_OUT"/results.tap

# No accessibility bus in a virtual X server. Without a GPU the app turns
# WebKit's compositing off itself (VITRINE_WEBKIT_COMPOSITING); the
# screenshot helper in app.test.mjs makes the page paint so that
# WebKitWebDriver's screenshots do not wait for ever in that mode.
export NO_AT_BRIDGE=1
export GDK_BACKEND=x11

# A hard limit on the whole run, so that a test that leaves a handle open (a
# listener, a child) cannot hang CI. (Not --test-force-exit: it exits
# before the TAP file below is written.)
limit="${E2E_TIMEOUT_S:-1800}"
cmd=(timeout --kill-after=30 "$limit" node --test --test-concurrency=1
  --test-reporter=spec --test-reporter-destination=stdout
  --test-reporter=tap --test-reporter-destination="$E2E_OUT/results.tap")
if [ -n "${E2E_ONLY:-}" ]; then cmd+=(--test-name-pattern="$E2E_ONLY"); fi
cmd+=("$here/app.test.mjs")

status=0
if [ -n "${DISPLAY:-}" ]; then
  "${cmd[@]}" || status=$?
else
  command -v xvfb-run >/dev/null || die "no DISPLAY and no xvfb-run: apt-get install xvfb"
  xvfb-run --auto-servernum --server-args="-screen 0 1280x1024x24" "${cmd[@]}" || status=$?
fi

if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then echo "e2e: stopped after ${limit} s (E2E_TIMEOUT_S)" >&2; fi
pass="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$E2E_OUT/results.tap" 2>/dev/null | tail -1)"
fail="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$E2E_OUT/results.tap" 2>/dev/null | tail -1)"
echo "e2e: screenshots in $E2E_OUT"
echo "e2e: ${pass:-0} passed, ${fail:-?} failed"
if [ "$status" -eq 0 ] && [ "${fail:-1}" != 0 ]; then status=1; fi
exit "$status"
