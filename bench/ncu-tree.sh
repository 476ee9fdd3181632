#!/usr/bin/env bash
# For the lead (not run by run.sh): warp-stall breakdown and SASS hotspots of the tree walk kernel, one launch of
# one bench case, with the lead's native check binary (the NEW=... of test/gpu/targets.sh). Usage:
#   NEW=path/to/tree_verify_check OUT=... bash .dev/floors/ncu-tree.sh ["bs 64 x 64 sample T0.7 top-k 20 top-p 0.9 auto"]
set -u
C=${1:-"bs 64 x 64 sample T0.7 top-k 20 top-p 0.9 auto"}
OUT=${OUT:-/tmp}
S=smsp__average_warps_issue_stalled
M=""
for r in barrier membar long_scoreboard short_scoreboard wait math_pipe_throttle mio_throttle lg_throttle no_instruction \
         branch_resolving dispatch_stall sleeping selected not_selected misc drain imc_miss tex_throttle; do
  M="$M${M:+,}${S}_${r}_per_issue_active.ratio"
done
# 1. stall reasons per issued instruction (which wait dominates: barrier / cluster barrier = barrier+membar+sleeping,
#    DRAM = long_scoreboard, single-thread sections = not much issued at all: low 'selected', high 'no eligible')
TREE_BENCH_ONLY=1 TREE_BENCH_CASE="$C" timeout 150 ncu --clock-control none -k regex:walk_kernel -s 3 -c 1 \
  --metrics "$M,smsp__cycles_active.avg,sm__cycles_elapsed.avg,smsp__inst_executed.sum,smsp__warps_active.avg.per_cycle_active" \
  "$NEW" 2>&1 | grep -E "smsp__|sm__" | sort -k3 -n -r > "$OUT/ncu-stalls.txt"
cat "$OUT/ncu-stalls.txt"
# 2. SASS source hotspots (stall samples per line): which code the warps wait in
TREE_BENCH_ONLY=1 TREE_BENCH_CASE="$C" timeout 200 ncu --clock-control none -k regex:walk_kernel -s 3 -c 1 \
  --section SourceCounters --section WarpStateStats --import-source yes -f -o "$OUT/walk" "$NEW" > /dev/null 2>&1
ncu -i "$OUT/walk.ncu-rep" --page source --csv --print-source cuda 2>/dev/null > "$OUT/walk-source.csv"
# top 40 CUDA source lines by warp stall samples (column names differ across ncu versions: keep the header)
head -1 "$OUT/walk-source.csv" > "$OUT/walk-hot.csv"
python3 - "$OUT/walk-source.csv" >> "$OUT/walk-hot.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
if not rows: sys.exit()
h = rows[0]
col = next((i for i, n in enumerate(h) if 'Warp Stall Sampling (All' in n), None)
if col is None: sys.exit()
def val(r):
    try: return float(r[col].replace(',', ''))
    except Exception: return 0.0
for r in sorted(rows[1:], key=val, reverse=True)[:40]: print(','.join(r))
PY
cat "$OUT/walk-hot.csv" | cut -c1-220
