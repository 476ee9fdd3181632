#!/usr/bin/env bash
# Scaling-law fitting on the GPU: CUDA vs CPU on the Chinchilla table (each objective, 4500-start grid; a few
# grid-per-resample bootstrap resamples), then the bootstrap with the whole grid per resample, 4000 × 4500 = 18M
# fits, timed (median of 3 full runs, wall clock including uploads and the per-resample reduction), then the
# public API with backend 'cuda' (needs dist/ and cuda/build/Release). Writes $OUT/scaling.txt.
# Run from the repo root after `source .gpu/env.sh`. Uses the check scaling_cuda of native/sources.json if carried
# in build-checks/, else builds it (`npm run check:gpu` does the same).
set -uo pipefail
OUT=${OUT:-/tmp}
BIN=$(node scripts/checks.js path scaling_cuda)
if [ ! -x "$BIN" ]; then
  node scripts/checks.js gpu --build-only scaling_cuda || { echo "scaling: build failed" | tee "$OUT/scaling.txt"; exit 1; }
fi
{
  echo "== scaling native check (CUDA vs CPU, 18M-fit bootstrap)"
  timeout 300 "$BIN" data/scaling/chinchilla_epoch_svg_extracted.csv 4000 3 data/scaling/datablations_fit_runs.csv 2>&1
  rc=$?
  if [ -f dist/index.js ] && ls cuda/build/Release/*.node >/dev/null 2>&1; then
    echo "== scaling through the public API (backend 'cuda' vs 'cpu')"
    timeout 120 node -e '
      const { scaling } = require("./dist");
      (async () => {
        const d = scaling.chinchillaRuns();
        const c = await scaling.fit(d, { backend: "cpu" });
        let t = Date.now();
        const g = await scaling.fit(d, { backend: "cuda" });
        const ms = Date.now() - t;
        const rel = Math.abs(c.objective - g.objective) / c.objective;
        console.log(`fit: cpu ${c.objective} cuda ${g.objective} rel ${rel.toExponential(1)} (cuda ${ms} ms)`);
        t = Date.now();
        let last = 0;
        const b = await scaling.fit(d, { backend: "cuda", bootstrap: { resamples: 400, seed: 1, gridPerResample: true }, onProgress: (x) => { last = x; } });
        console.log(`bootstrap 400 x 4500 via API: ${Date.now() - t} ms, progress ${last}, alpha se ${b.bootstrap.stdErr.alpha.toFixed(4)}`);
        const ac = new AbortController();
        const p = scaling.fit(d, { backend: "cuda", bootstrap: { resamples: 4000, seed: 1, gridPerResample: true }, signal: ac.signal });
        t = Date.now();
        setTimeout(() => ac.abort(), 200);
        try { await p; console.log("abort: NOT aborted"); process.exitCode = 1; }
        catch (e) { console.log(`abort: ${e.name} after ${Date.now() - t} ms`); }
        if (!(rel <= 1e-9)) { console.log("FAIL: cuda vs cpu objective"); process.exitCode = 1; }
      })().catch((e) => { console.log("FAIL:", e); process.exitCode = 1; });
    ' 2>&1 | tail -20
    rc2=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] && rc=$rc2
  else
    echo "== scaling public API part skipped (needs dist/ and cuda/build/Release/*.node)"
  fi
  exit $rc
} | tee "$OUT/scaling.txt"
