#!/usr/bin/env bash
# README command 1: set everything up, then write a listing for a sample
# photo with the default (heavy) model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --app
VITRINE=./target/release/vitrine
[ -n "${CARGO_TARGET_DIR:-}" ] && VITRINE="$CARGO_TARGET_DIR/release/vitrine"
printf '\n==> A listing for assets/samples/hoodie-02.png\n'
"$VITRINE" listing assets/samples/hoodie-02.png --marketplace shopify
