#!/usr/bin/env bash
# verifyTree on the GPU: CUDA vs CPU token agreement (lazy and all-rows paths, f32/f16/bf16, every mode, many
# seeds), then CUDA-event timings from device-resident bf16 logits at V = 128256 against a measured device copy,
# then the jest GPU comparison through the addon (if the CUDA addon was built/carried).
# Run from the repo root after `source .gpu/env.sh`; writes $OUT/tree.txt. Uses build-checks/tree_verify_cuda_check
# if carried, else compiles it (nvcc, ~2 min).
set -uo pipefail
OUT=${OUT:-/tmp}
BIN=build-checks/tree_verify_cuda_check
if [ ! -x "$BIN" ]; then
  mkdir -p build-checks
  nvcc -O3 -std=c++17 -arch=sm_90 --default-stream per-thread -DLW_WITH_CUDA=1 -Inative test/gpu/tree_verify_check.cu \
    native/cuda/tree_verify.cu native/core/tree_verify.cc native/core/tree_reference.cc native/core/parallel.cc \
    native/core/tree_batch.cc native/cpu/tree_verify_cpu.cc native/cpu/kept_set.cc native/cpu/row_simd.cc native/cpu/simd.cc -o "$BIN" \
    || { echo "tree: build failed" | tee "$OUT/tree.txt"; exit 1; }
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
