#!/usr/bin/env bash
# verifyTree on the GPU: CUDA vs CPU token agreement (lazy and all-rows paths, f32/f16/bf16, every mode, many
# seeds), then CUDA-event timings from device-resident bf16 logits at V = 128256 against a measured device copy,
# then the jest GPU comparison through the addon (if the CUDA addon was built/carried).
# Run from the repo root after `source .gpu/env.sh`; writes $OUT/tree.txt. Uses the check tree_verify_cuda of
# native/sources.json if carried in build-checks/, else builds it (`npm run check:gpu` does the same; ~2 min).
set -uo pipefail
OUT=${OUT:-/tmp}
BIN=$(node scripts/checks.js path tree_verify_cuda)
if [ ! -x "$BIN" ]; then
  node scripts/checks.js gpu --build-only tree_verify_cuda || { echo "tree: build failed" | tee "$OUT/tree.txt"; exit 1; }
fi
{
  echo "== tree verify native GPU check"
  timeout 300 "$BIN" 2>&1
  rc=$?
  if ls cuda/build/Release/*.node build-cuda/*.node build-cuda/Release/*.node >/dev/null 2>&1; then
    echo "== tree verify jest (CUDA vs CPU through the addon)"
    timeout 120 npx jest test/tree-verify-gpu.test.ts 2>&1 | grep -E "✓|✕|Tests:|skipped|●" | head -20
  fi
  exit $rc
} | tee "$OUT/tree.txt"
