#!/usr/bin/env node
// Host overhead of one verifyTree call, 64 trees × 64 nodes, phase by phase, on the CPU backend (which passes
// through the same lib/, addon and core phases as CUDA): median µs between the addon's host marks
// (LENGTHWISE_HOST_TIMING=1), from the call's JS entry to its await done. The logits are host bf16 with a small
// vocabulary (V 256) so the CPU walk ("core planned → worker end") does not dominate; it is reported, not judged.
//   node bench/tree-host-overhead.js [--roots DIR[,DIR...]] [--iters N] [--rounds R] [--out FILE.md]
// Each root is a package root holding dist/ and build/Release/lengthwise.node (default: this checkout). Several
// roots are loaded into this one process and measured in alternating rounds (same process, same data), so a
// copy of the previous build gives a same-run before / after. Cases: sampling T 0.7 + top-k 20 + top-p 0.9 and
// greedy, each async and with opts.sync.
'use strict';
process.env.LENGTHWISE_HOST_TIMING = '1';
const fs = require('fs');
const path = require('path');
const { makeTrees } = require('./helpers/trees');

const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : d; };
const roots = opt('roots', path.join(__dirname, '..')).split(',').map((r) => path.resolve(r));
const iters = Number(opt('iters', 200));
const rounds = Number(opt('rounds', 5));
const outFile = opt('out', null);

const median = (xs) => { const a = Array.from(xs).sort((x, y) => x - y); return a.length ? a[a.length >> 1] : NaN; };
const now = () => Number(process.hrtime.bigint());  // CLOCK_MONOTONIC ns, the clock of the addon's marks

function lcg(seed) {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}


function bf16Logits(n, seed) {
  const r = lcg(seed);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const a = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    f[0] = 2.5 * 1.7320508 * (r() + r() + r() + r() - 2);
    a[i] = u[0] >>> 16;
  }
  return a;
}

const B = 64, NODES = 64, V = 256;
// Shaped like bench/gpu-targets.js's 64 × 64 trees; its generator differs, so not the same trees.
const trees = makeTrees(B, NODES, V, 5, lcg(1));
const target = { data: bf16Logits(B * NODES * V, 11), dtype: 'bfloat16', rows: B * NODES, vocab: V };
const cases = [
  { name: 'T 0.7 + top-k 20 + top-p 0.9', opts: { mode: 'sample', temperature: 0.7, topK: 20, topP: 0.9, seed: 7, step: 1 } },
  { name: 'greedy', opts: { mode: 'greedy' } },
];

const builds = roots.map((root, i) => {
  const lw = require(path.join(root, 'dist'));
  const { cpuNative } = require(path.join(root, 'dist', 'runtime', 'native'));
  return { label: roots.length === 1 ? 'this build' : `${i}: ${path.relative(process.cwd(), root) || '.'}`, lw, addon: cpuNative() };
});

// One call; its phases between consecutive marks (js entry first, js await done last), in µs.
async function timedCall(b, opts) {
  b.addon._hostTimings();
  const t0 = now();
  await b.lw.verifyTree(trees, target, opts);
  const t1 = now();
  const phases = [];
  let prev = ['js entry', t0];
  for (const [mark, ns] of b.addon._hostTimings()) {
    phases.push([`${prev[0]} → ${mark}`, (ns - prev[1]) / 1e3]);
    prev = [mark, ns];
  }
  phases.push([`${prev[0]} → js await done`, (t1 - prev[1]) / 1e3]);
  return { wall: (t1 - t0) / 1e3, phases };
}

async function main() {
  const runs = [];
  for (const c of cases) for (const sync of [false, true]) {
    const opts = { ...c.opts, backend: 'cpu', ...(sync ? { sync: true } : {}) };
    runs.push({ name: `${c.name}, ${sync ? 'sync' : 'async'}`, opts, per: builds.map(() => ({ wall: [], phases: new Map() })) });
  }
  // The same tokens from every build, async and sync alike.
  const tokensOf = new Map();
  for (const r of runs) {
    const key = r.name.replace(/, (a?sync)$/, '');
    for (const b of builds) {
      const got = (await b.lw.verifyTree(trees, target, r.opts)).tokens.join();
      if (!tokensOf.has(key)) tokensOf.set(key, got);
      else if (tokensOf.get(key) !== got) throw new Error(`${r.name}: ${b.label} gives other tokens`);
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const r of runs) {
      for (let bi = 0; bi < builds.length; bi++) {
        for (let i = 0; i < 20; i++) await timedCall(builds[bi], r.opts);  // warm-up (V8 tiers up)
        const s = r.per[bi];
        for (let i = 0; i < iters; i++) {
          const t = await timedCall(builds[bi], r.opts);
          s.wall.push(t.wall);
          for (const [k, v] of t.phases) { if (!s.phases.has(k)) s.phases.set(k, []); s.phases.get(k).push(v); }
        }
      }
    }
  }
  const lines = [];
  const log = (s = '') => { lines.push(s); console.log(s); };
  log(`verifyTree host phases, ${B} × ${NODES} nodes, host bf16 logits V ${V}, CPU backend; median µs of ${iters * rounds} calls per build, ${rounds} alternating rounds`);
  for (const bd of builds) log(`  build ${bd.label}`);
  for (const r of runs) {
    log('');
    log(`| ${r.name} | ${builds.map((b) => b.label).join(' | ')} |`);
    log(`|---|${builds.map(() => '---:').join('|')}|`);
    const keys = [...new Set(r.per.flatMap((s) => [...s.phases.keys()]))];
    for (const k of keys) log(`| ${k} | ${r.per.map((s) => (s.phases.has(k) ? median(s.phases.get(k)).toFixed(1) : '—')).join(' | ')} |`);
    log(`| **wall** | ${r.per.map((s) => median(s.wall).toFixed(1)).join(' | ')} |`);
  }
  if (outFile) fs.writeFileSync(outFile, lines.join('\n') + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
