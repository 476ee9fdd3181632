#!/usr/bin/env bash
# XL3M on the GPU: correctness vs CPU / float64 and the 1024 × 32 × 128256 bf16 bandwidth benchmark (native
# check), then the public API on CUDA (test/gpu/xl3m-addon.js: needs dist/ and cuda/build/Release).
# Run from the repo root after `source .gpu/env.sh`; writes $OUT/xl3m.txt. Uses the check xl3m_cuda of
# native/sources.json if carried in build-checks/, else builds it (`npm run check:gpu` does the same).
set -uo pipefail
OUT=${OUT:-/tmp}
BIN=$(node scripts/checks.js path xl3m_cuda)
if [ ! -x "$BIN" ]; then
  node scripts/checks.js gpu --build-only xl3m_cuda || { echo "xl3m: build failed" | tee "$OUT/xl3m.txt"; exit 1; }
fi
{
  echo "== xl3m native check (CUDA vs CPU, bench)"
  timeout 240 "$BIN" 2>&1
  rc=$?
  if [ -f dist/index.js ] && ls cuda/build/Release/*.node >/dev/null 2>&1; then
    echo "== xl3m through the public API (CUDA addon)"
    timeout 240 node test/gpu/xl3m-addon.js 2>&1 | tail -60
    rc2=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] && rc=$rc2
  else
    echo "== xl3m public API part skipped (needs dist/ and cuda/build/Release/*.node)"
  fi
  exit $rc
} | tee "$OUT/xl3m.txt"
