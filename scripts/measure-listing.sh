#!/usr/bin/env bash
# Measure `vitrine listing` end to end: model load, time to first token,
# time to done and peak RSS, cold (page cache dropped, needs root) and warm,
# for the given models and thread counts. Prints a Markdown table for
# docs/PERFORMANCE.md.
#
#   scripts/measure-listing.sh [PHOTO] [MODELS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
PHOTO="${1:-assets/samples/hoodie-02.png}"
MODELS="${2:-qwen2.5-coder-1.5b smollm2-135m}"
THREADS="${3:-1 2}"
VITRINE="${CARGO_TARGET_DIR:-target}/release/vitrine"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "| model | threads | run | load s | first token s | done s | prompt tok | gen tok | gen tok/s | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for model in $MODELS; do
  for threads in $THREADS; do
    for run in cold warm; do
      if [ "$run" = cold ]; then
        sync
        if ! echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then run="cold*"; fi
      fi
      data="$TMP/$model-$threads-$run"
      VITRINE_DATA_DIR="$data" VITRINE_LOG=vitrine_core=info /usr/bin/time -f "RSS_KB=%M WALL=%e" \
        "$VITRINE" --threads "$threads" listing --json --model "$model" "$PHOTO" >"$TMP/out.json" 2>"$TMP/err.txt"
      python3 - "$TMP/out.json" "$TMP/err.txt" "$model" "$threads" "$run" <<'PY'
import json, re, sys
out, err, model, threads, run = sys.argv[1:]
d = json.load(open(out))
p = d["draft"]["versions"][-1]["provenance"]
log = open(err).read()
load = re.search(r"ms=(\d+).*model loaded|model loaded.*ms=(\d+)", log)
load_ms = int(next(g for g in load.groups() if g)) if load else 0
rss = int(re.search(r"RSS_KB=(\d+)", log).group(1)) / 1024
gen_s = (p["total_ms"] - p["time_to_first_token_ms"]) / 1000
tps = p["generated_tokens"] / gen_s if gen_s > 0 else 0
print(f"| {model} | {threads} | {run} | {load_ms/1000:.1f} | {(load_ms + p['time_to_first_token_ms'])/1000:.1f} | "
      f"{(load_ms + p['total_ms'])/1000:.1f} | {p['prompt_tokens']} | {p['generated_tokens']} | {tps:.1f} | {rss:.0f} |")
PY
    done
  done
done
