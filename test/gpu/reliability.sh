#!/usr/bin/env bash
# Reliability on the GPU machine: the boundary fuzz and the soak with CUDA as the default backend (device tensors
# included), device out-of-memory, undisposed tensors, CUDA/CPU agreement, event-loop delay, abort.
# Build here first:  npx node-gyp build && npm run build:cuda && npx tsc -p test/reliability/tsconfig.gpu.json
# (compiled scripts in build-checks/rel; no TypeScript or fast-check needed there).
# Run from the repo root after `source .gpu/env.sh`, carrying build/, cuda/build/, build-checks/; writes $OUT/reliability.txt.
set -uo pipefail
OUT=${OUT:-/tmp}
REL=build-checks/rel
if [ ! -f "$REL/scripts/reliability-gpu.js" ]; then
  echo "reliability: $REL missing (npx tsc -p test/reliability/tsconfig.gpu.json)" | tee "$OUT/reliability.txt"; exit 1
fi
# The compiled library resolves its addons and data relative to itself.
for d in build cuda data; do ln -sfn "$PWD/$d" "$REL/$d"; done
export LW_RESULTS_DIR=$OUT
{
  echo "== GPU checks (OOM, undisposed tensors, CUDA = CPU, event loop, abort)"
  timeout 240 node --expose-gc "$REL/scripts/reliability-gpu.js" 2>&1; rc=$?
  echo "== boundary fuzz, 30000 calls, CUDA default backend (child processes count crashes)"
  timeout 200 node "$REL/scripts/fuzz-long.js" --calls 30000 --seed 3 --jobs 4 2>&1 | grep -v '^  [0-9]* calls'; r=${PIPESTATUS[0]}; [ $rc -eq 0 ] && rc=$r
  echo "== soak, 30000 mixed calls incl. device tensors"
  timeout 120 node --expose-gc "$REL/bench/soak.js" --calls 30000 2>&1; r=$?; [ $rc -eq 0 ] && rc=$r
  exit $rc
} | tee "$OUT/reliability.txt"
