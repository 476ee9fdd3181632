// Structural checks of an exported pair with ONNX Runtime (CPU), and the draft/target cost ratio.
//   node check.mjs DIR [--json OUT.json]
// 1. ORT vs the float64 numpy reference written by export.py (<name>.ref.json): tree call with a past.
// 2. KV cache: full forward of N tokens == prefix call + incremental calls (1 and 3 tokens at a time).
// 3. Tree bias: logits of every node of a random tree == logits of the same node in its root-to-leaf chain.
// 4. Timing: median forward time of target and draft, S = 1 and S = 8 with a past of 128, same run.
import fs from 'node:fs';
import path from 'node:path';
import { ort, MASK, rng, open, emptyPast, forward, causalRows, row, argmax } from './ort_model.mjs';

const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const dir = process.argv[2];
const jsonOut = process.argv.indexOf('--json') > 0 ? process.argv[process.argv.indexOf('--json') + 1] : null;

async function refCheck(m) {
  const ref = JSON.parse(fs.readFileSync(path.join(dir, `${m.meta.name}.ref.json`), 'utf8'));
  const a = await forward(m, ref.ids0, ref.pos0, causalRows(0, 3), emptyPast(m.meta, 2));
  const b = await forward(m, ref.ids1, ref.pos1, ref.bias1, a.present);
  let diff = 0, argmaxOk = true;
  for (let bi = 0; bi < 2; bi++) for (let s = 0; s < 4; s++) {
    const r = row(b.logits, bi, s);
    diff = Math.max(diff, maxDiff(Array.from(r.subarray(0, 64)), ref.logitsHead[bi][s]));
    argmaxOk &&= argmax(r) === ref.argmax[bi][s];
  }
  return { maxAbsDiffVsFloat64Ref: diff, argmaxSame: argmaxOk, pass: diff < 2e-3 && argmaxOk };
}

// Concatenates the present tensors of two calls only through the model (the cache is what ORT returned).
async function kvCheck(m, r) {
  const n = 24, V = m.meta.vocab;
  const ids = [Array.from({ length: n }, () => 3 + Math.floor(r() * (V - 3)))];
  const pos = [Array.from({ length: n }, (_, i) => i)];
  const full = await forward(m, ids, pos, causalRows(0, n), emptyPast(m.meta, 1));
  let diff = 0;
  for (const step of [1, 3]) {
    let p = 10;
    let cur = await forward(m, [ids[0].slice(0, p)], [pos[0].slice(0, p)], causalRows(0, p), emptyPast(m.meta, 1));
    for (let s = 0; s < p; s++) diff = Math.max(diff, maxDiff(row(cur.logits, 0, s), row(full.logits, 0, s)));
    while (p < n) {
      const k = Math.min(step, n - p);
      cur = await forward(m, [ids[0].slice(p, p + k)], [pos[0].slice(p, p + k)], causalRows(p, k), cur.present);
      for (let s = 0; s < k; s++) diff = Math.max(diff, maxDiff(row(cur.logits, 0, s), row(full.logits, 0, p + s)));
      p += k;
    }
  }
  return { tokens: n, maxAbsDiff: diff, pass: diff < 1e-3 };
}

async function treeCheck(m, r) {
  const P = 8, nodes = 11, V = m.meta.vocab;
  const parents = [-1];
  for (let i = 1; i < nodes; i++) parents.push(r() < 0.25 ? -1 : Math.floor(r() * i));
  const depth = parents.map(function d(p, i) { return p < 0 ? 0 : 1 + d(parents[p], p); });
  const prefix = Array.from({ length: P }, () => 3 + Math.floor(r() * (V - 3)));
  const toks = Array.from({ length: nodes }, () => 3 + Math.floor(r() * (V - 3)));
  const pre = await forward(m, [prefix], [prefix.map((_, i) => i)], causalRows(0, P), emptyPast(m.meta, 1));
  const bias = toks.map((_, s) => {
    const rowB = Array(P + nodes).fill(MASK).fill(0, 0, P);
    for (let a = s; a >= 0; a = parents[a]) rowB[P + a] = 0;
    return rowB;
  });
  const tree = await forward(m, [toks], [depth.map((d) => P + d)], bias, pre.present);
  let diff = 0, argmaxOk = true;
  const leaves = toks.map((_, i) => i).filter((i) => !parents.includes(i));
  for (const leaf of leaves) {
    const chain = [];
    for (let a = leaf; a >= 0; a = parents[a]) chain.unshift(a);
    const lin = await forward(m, [chain.map((i) => toks[i])], [chain.map((_, k) => P + k)], causalRows(P, chain.length), pre.present);
    chain.forEach((node, k) => {
      diff = Math.max(diff, maxDiff(row(tree.logits, 0, node), row(lin.logits, 0, k)));
      argmaxOk &&= argmax(row(tree.logits, 0, node)) === argmax(row(lin.logits, 0, k));
    });
  }
  return { nodes, parents, leaves: leaves.length, maxAbsDiff: diff, argmaxSame: argmaxOk, pass: diff < 1e-3 && argmaxOk };
}

async function timeForward(m, s, p, reps) {
  const V = m.meta.vocab;
  const pre = await forward(m, [Array.from({ length: p }, (_, i) => 3 + (i * 7919) % (V - 3))],
    [Array.from({ length: p }, (_, i) => i)], causalRows(0, p), emptyPast(m.meta, 1));
  const ids = [Array.from({ length: s }, (_, i) => 5 + i)], pos = [Array.from({ length: s }, (_, i) => p + i)];
  const bias = causalRows(p, s);
  for (let i = 0; i < 5; i++) await forward(m, ids, pos, bias, pre.present);
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await forward(m, ids, pos, bias, pre.present);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

const target = await open(dir, 'target');
const draft = await open(dir, 'draft');
const report = { dir, ort: ort.env.versions?.common ?? 'unknown', models: {} };
for (const m of [target, draft]) {
  const r = rng(12345);
  report.models[m.meta.name] = { ref: await refCheck(m), kvCache: await kvCheck(m, r), tree: await treeCheck(m, r) };
}
const timing = {};
for (const [s, p] of [[1, 128], [8, 128]]) {
  const tt = await timeForward(target, s, p, 41), td = await timeForward(draft, s, p, 41);
  timing[`S${s}_P${p}`] = { targetMs: tt, draftMs: td, draftOverTarget: td / tt };
}
report.timing = { threads: 1, median: timing };
report.pass = Object.values(report.models).every((x) => x.ref.pass && x.kvCache.pass && x.tree.pass);
console.log(JSON.stringify(report, null, 1));
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(report, null, 1));
process.exitCode = report.pass ? 0 : 1;
