#!/usr/bin/env bash
# Compares the PTX of the CUDA kernels of two checkouts (e.g. a worktree at an old commit and this one), kernel by
# kernel, with symbol names (anonymous-namespace hashes, template spellings), comments and line info removed.
#   bash bench/ptx-compare.sh OLD_ROOT NEW_ROOT [file ...]   (files under native/cuda, default the three below)
set -euo pipefail
old=$1 new=$2; shift 2
files=${*:-logit_stats xl3m_score scaling}
out=$(mktemp -d)
for rev in old new; do
  root=${!rev}
  for f in $files; do
    (cd "$root" && nvcc -std=c++17 -O3 --default-stream per-thread --expt-relaxed-constexpr -arch=sm_90 -ptx -Inative \
       -DLW_WITH_CUDA=1 "native/cuda/$f.cu" -o "$out/$rev-$f.ptx")
  done
done
python3 - "$out" $files <<'PY'
import re, sys
out, files = sys.argv[1], sys.argv[2:]
def bodies(p):
    s = open(p).read()
    s = re.sub(r'_Z[A-Za-z0-9_]+', 'SYM', s)
    s = re.sub(r'^//.*$|^\s*\.(loc|file)\s.*$', '', s, flags=re.M)
    parts = re.split(r'(?=\.(?:visible\s+)?\.?entry\s|\n\.func\s|\n\.visible \.func)', s)
    return sorted(x.strip() for x in parts if x.strip())
bad = 0
for f in files:
    a, b = bodies(f'{out}/old-{f}.ptx'), bodies(f'{out}/new-{f}.ptx')
    same = sum(1 for x in a if x in b)
    print(f'{f}: {len(a)} old / {len(b)} new kernels and functions, {same} bodies identical' + (' (all)' if a == b else ''))
    bad += a != b
sys.exit(1 if bad else 0)
PY
