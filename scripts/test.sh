#!/usr/bin/env bash
# README command 2: install what the tests need, then run every test:
# formatting, lints, the Rust suites (real SQLite, real models), the UI's unit
# tests and the desktop app end to end through WebDriver under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests use fresh temporary data dirs, but share the (large) models.
export VITRINE_MODELS_DIR="${VITRINE_MODELS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/vitrine/models}"

# All three models: the tokenizer tests check each against llama.cpp's ids.
scripts/setup.sh --test-deps --models all

# The store suites run on SQLite and on PostgreSQL. Unless the caller names
# a server of their own, start a throwaway cluster (scripts/pg-test-cluster.sh:
# temp dir, loopback, private port) and stop it when the tests end.
if [ -z "${VITRINE_TEST_POSTGRES_URL:-}" ]; then
  PG_TEST_DIR=$(mktemp -d /tmp/vitrine-pg.XXXXXX)
  trap 'scripts/pg-test-cluster.sh stop "$PG_TEST_DIR"' EXIT
  VITRINE_TEST_POSTGRES_URL=$(scripts/pg-test-cluster.sh start "$PG_TEST_DIR")
  export VITRINE_TEST_POSTGRES_URL
fi

printf '\n==> cargo fmt --check\n'
cargo fmt --all --check
printf '\n==> cargo clippy\n'
cargo clippy --release --locked --workspace --all-targets -- -D warnings
printf '\n==> cargo test\n'
cargo test --release --locked --workspace
printf '\n==> Red-team reports\n'
cat "${CARGO_TARGET_DIR:-target}"/tmp/redteam-*.md 2>/dev/null || echo "(no red-team report found)"
printf '\n==> UI unit tests\n'
(cd ui && npm test --silent)
printf '\n==> Desktop app end to end (WebDriver)\n'
E2E_PHOTO="$PWD/assets/samples/hoodie-02.png" tests/e2e/run.sh
