#!/usr/bin/env bash
# The merged main on the GPU machine, one call: every JS GPU check (CUDA == CPU token for token / to float
# tolerance), then, if a base build is staged in ../base, the CPU same-run comparison against it on the machine's
# quiet CPU cores (bench/tree-compare.js, transpiled). Run from the staged root (dist/, build/, cuda/build/) after
# `source .gpu/env.sh`; writes $OUT/*.txt and prints a summary. Exit 1 if any check failed.
set -uo pipefail
OUT=${OUT:-/tmp}
fails=0
run() {  # run NAME SECONDS CMD...
  local name=$1 t=$2; shift 2
  local t0=$(date +%s)
  timeout "$t" "$@" > "$OUT/$name.txt" 2>&1
  local rc=$?
  echo "== $name: rc $rc in $(( $(date +%s) - t0 )) s"
  tail -6 "$OUT/$name.txt"
  [ $rc -eq 0 ] || fails=$((fails + 1))
}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
run tree-serving 200 node test/gpu/tree-serving.js
[ -f test/gpu/tree-caps.js ] && run tree-caps 150 node test/gpu/tree-caps.js
[ -f test/gpu/tree-processors.js ] && run tree-processors 200 node test/gpu/tree-processors.js
run scaling-laws 120 node test/gpu/scaling-laws.js
run xl3m-addon 90 node test/gpu/xl3m-addon.js
run logitstats 90 node test/gpu/logitstats.js
if [ -d ../base/dist ] && [ -f bench/tree-compare.js ]; then
  run tree-compare-cpu 200 node bench/tree-compare.js ../base . --time --backend cpu
fi
echo "integration: $fails failing"
exit $([ $fails -eq 0 ] && echo 0 || echo 1)
