#!/usr/bin/env bash
# Tree utilities on the GPU machine: expectedAcceptance from device-resident bf16 logits (the CUDA addon copies
# only the rows with children) must equal the host result; timings of both. Needs dist/ and cuda/build/Release.
# Run from the repo root after `source .gpu/env.sh`; writes $OUT/tree-utils.txt.
set -uo pipefail
OUT=${OUT:-/tmp}
{
  if [ -f dist/index.js ] && ls cuda/build/Release/*.node >/dev/null 2>&1; then
    echo "== tree utilities, device-resident vs host logits"
    timeout 110 node test/gpu/tree-utils.js 2>&1 | tail -20
    exit "${PIPESTATUS[0]}"
  else
    echo "== tree-utils skipped (needs dist/ and cuda/build/Release/*.node)"
  fi
} | tee "$OUT/tree-utils.txt"
