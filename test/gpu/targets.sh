#!/usr/bin/env bash
# Issue #11 on the GPU machine, one call: the tree check (CUDA = CPU token for token, then timings) of this build
# and, if carried, of the base build (timings only); the host end-to-end before/after (LENGTHWISE_HOST_LEGACY);
# Nsight Compute on one walk launch of the two open tree targets; the shared JS GPU suite (tree-serving, tree-utils,
# logitstats); bench/gpu-targets.js before (legacy host path) and after. Run from the staged root (dist/, build/,
# cuda/build/, build-checks/ binaries) after `source .gpu/env.sh`; writes $OUT/*.txt.
#   bash test/gpu/targets.sh [quick | js]      (js: only the JS suite and bench/gpu-targets.js, no native checks/ncu)
set -uo pipefail
OUT=${OUT:-/tmp}
Q=${1:-}
JS_ONLY=
if [ "$Q" = js ]; then JS_ONLY=1; Q=; fi
NEW=${NEW_CHECK:-bin/tree_verify_cuda}
BASE=${BASE_CHECK:-bin/tree_verify_cuda.base}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv | tee "$OUT/gpu.txt"
[ -z "$JS_ONLY" ] && {
  echo "== new build: agreement + timings"
  timeout 240 "$NEW" 2>&1
  echo "== new build, LENGTHWISE_HOST_LEGACY=1 (host path before #11): timings only"
  LENGTHWISE_HOST_LEGACY=1 TREE_BENCH_ONLY=1 timeout 120 "$NEW" 2>&1 | grep -E "auto|device copy"
  if [ -x "$BASE" ]; then
    echo "== base build (main before #11): timings only"
    TREE_BENCH_ONLY=1 timeout 120 "$BASE" 2>&1 | grep -E "auto|device copy|OK|FAIL"
  fi
} > "$OUT/tree-check.txt" 2>&1
[ -z "$JS_ONLY" ] && grep -E "FAIL|differences|auto|OK" "$OUT/tree-check.txt" | head -60
if [ -z "$Q" ] && [ -z "$JS_ONLY" ] && command -v ncu >/dev/null; then
  for c in "bs 64 x 64 sample T0.7 top-k 20 top-p 0.9 auto" "bs 1 x 16 nodes sample T0.7 top-k 20 top-p 0.9 auto" "chain bs 64 k 15, real q (iid) auto"; do
    echo "== ncu: $c"
    TREE_BENCH_ONLY=1 TREE_BENCH_CASE="$c" timeout 150 ncu --clock-control none -k regex:walk_kernel -s 3 -c 1 \
      --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
      --section SchedulerStats "$NEW" 2>&1 | grep -vE "^==PROF==|^  *$" | grep -E "Duration|Throughput|Memory \[%\]|DRAM|Achieved Occupancy|Registers|Stall|Warp Cycles|Issued|Eligible|Active Warps|Grid Size|Block Size|Cluster|Shared Memory|L2 Hit|L1/TEX Hit|One or More|No Eligible" | head -40
  done > "$OUT/ncu.txt" 2>&1
  head -120 "$OUT/ncu.txt"
fi
{
  echo "== tree-serving.js"; timeout 200 node test/gpu/tree-serving.js 2>&1 | tail -25
  echo "== tree-utils.js"; timeout 120 node test/gpu/tree-utils.js 2>&1 | tail -12
  echo "== logitstats.js"; timeout 120 node test/gpu/logitstats.js 2>&1 | tail -14
} > "$OUT/js-suite.txt" 2>&1
grep -E "PASS|FAIL|differ|mismatch|Error" "$OUT/js-suite.txt" | head -30
echo "== gpu-targets, legacy host path (before)"
LENGTHWISE_HOST_LEGACY=1 timeout 200 node bench/gpu-targets.js --rows tree,logitstats ${Q:+--quick} --out "$OUT/gpu-targets-before.md" > /dev/null 2>&1
grep -E "^\|" "$OUT/gpu-targets-before.md"
echo "== gpu-targets (after)"
timeout 300 node bench/gpu-targets.js ${Q:+--quick} --out "$OUT/gpu-targets.md" 2>&1 | tail -80
