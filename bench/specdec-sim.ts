// Speculative-decoding simulation: a draft and a target character n-gram model (orders 3 and 6) trained on a
// small generated corpus drive a full decoding loop: each step builds a batch of draft trees, scores every node
// with the target, verifies with `verifyTree`, appends the emitted tokens and repeats. Reports per mode the mean
// accepted length next to the analytic `tree.expectedAcceptance` over the same trees (equal in expectation for
// every mode, sampled drafts through their exact recursive-rejection probabilities; greedy: equal on every tree),
// GTO rewards, and for sampled drafts the empirical
// first-token acceptance next to the multi-draft optimum α*.
//
//   node bench/run.js bench/specdec-sim.ts [--steps 250] [--batch 8] [--seed 1] [--quick]
// Needs the CPU addon (npx node-gyp rebuild). Writes bench/results/specdec-sim.{json,md}.
import * as fs from 'fs';
import * as path from 'path';
import type { TreeBatch } from '../lib/tree/types';
import { expectedAcceptance, gtoReward } from '../lib/tree/utils';
import type { TargetProcessingOptions } from '../lib/tree/sampling';
import { stopIndex } from '../lib/tree/specdec';
import { optimalAcceptance, optimalAcceptanceBounds } from '../lib/tree/multidraft';
import { mulberry32 } from '../lib/runtime/prng';
import { corpus } from './sim/corpus';
import { NGramModel } from './sim/ngram';
import { adaptiveChain, bestFirstTree, type DraftTree, nodeContext, sampledTree } from './sim/drafter';

/** The verifier the loop calls: `verifyTree` from lib/tree/verify (plugged in at run time). */
type Verifier = (
  trees: TreeBatch,
  target: { data: Float32Array; rows: number; vocab: number },
  opts: Record<string, unknown>,
) => Promise<{ acceptedLength: Int32Array; tokens: Int32Array; tokenOffsets: Int32Array }>;

function loadVerifier(): Verifier {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('../lib/tree/verify') as { verifyTree?: Verifier };
  if (typeof mod.verifyTree !== 'function') throw new Error('lib/tree/verify does not export verifyTree yet');
  return mod.verifyTree;
}

interface Mode {
  name: string;
  verify: { mode: 'greedy' | 'sample'; drafts: 'deterministic' | 'iid' | 'without-replacement' };
  processing: TargetProcessingOptions;
  build: (ctx: number[], r: () => number) => DraftTree;
  /** Children per root for sampled trees (for α*). */
  rootDrafts?: number;
}

function args() {
  const a = process.argv.slice(2);
  const get = (k: string, d: number) => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? Number(a[i + 1]) : d;
  };
  const quick = a.includes('--quick');
  return { steps: get('steps', quick ? 40 : 250), batch: get('batch', 8), seed: get('seed', 1) };
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}
function stdErr(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1) / Math.max(1, xs.length));
}

async function main() {
  const { steps, batch, seed } = args();
  const text = corpus(60000);
  const chars = Array.from(new Set(text)).sort();
  const vocab = chars.length;
  const ids = Int32Array.from(text, (c) => chars.indexOf(c));
  const target = new NGramModel(ids, vocab, 6, 0.5);
  const draft = new NGramModel(ids, vocab, 3, 2);
  const verify = loadVerifier();

  const modes: Mode[] = [
    { name: 'greedy, best-first tree (24 nodes)', verify: { mode: 'greedy', drafts: 'deterministic' }, processing: { mode: 'greedy' },
      build: (c) => bestFirstTree(c, draft, 24, 3, 1e-3) },
    { name: 'sample T=1, best-first tree (24 nodes)', verify: { mode: 'sample', drafts: 'deterministic' }, processing: {},
      build: (c) => bestFirstTree(c, draft, 24, 3, 1e-3) },
    { name: 'sample T=0.7 top-p 0.9, best-first tree', verify: { mode: 'sample', drafts: 'deterministic' },
      processing: { temperature: 0.7, topP: 0.9 }, build: (c) => bestFirstTree(c, draft, 24, 3, 1e-3) },
    { name: 'sample T=1 top-k 4, SpecDec++ chain (h=0.6)', verify: { mode: 'sample', drafts: 'deterministic' },
      processing: { topK: 4 }, build: (c) => adaptiveChain(c, draft, 10, (h) => stopIndex(h, 0.6)) },
    { name: 'sample T=1, chain of 5 drawn from q', verify: { mode: 'sample', drafts: 'iid' }, processing: {},
      build: (c, r) => sampledTree(c, draft, [1, 1, 1, 1, 1], true, r), rootDrafts: 1 },
    { name: 'sample T=1, i.i.d. tree [3,2,1,1]', verify: { mode: 'sample', drafts: 'iid' }, processing: {},
      build: (c, r) => sampledTree(c, draft, [3, 2, 1, 1], true, r), rootDrafts: 3 },
    { name: 'sample T=1, without-replacement tree [3,2,1,1]', verify: { mode: 'sample', drafts: 'without-replacement' },
      processing: {}, build: (c, r) => sampledTree(c, draft, [3, 2, 1, 1], false, r), rootDrafts: 3 },
  ];

  const results = [];
  for (const [mi, mode] of modes.entries()) {
    const r = mulberry32(seed * 1000 + mi);
    const ctxs = Array.from({ length: batch }, () => {
      const at = Math.floor(r() * (ids.length - 20));
      return Array.from(ids.subarray(at, at + 8));
    });
    const accepted: number[] = [];
    const expected: number[] = [];
    const diff: number[] = [];
    const rewards: number[] = [];
    const nodes: number[] = [];
    const firstAccepted: number[] = [];
    const alphaLow: number[] = [];
    const alphaHigh: number[] = [];
    let greedyMismatch = 0;
    let verifyMs = 0;
    let emittedTotal = 0;
    const deterministic = mode.verify.drafts === 'deterministic';
    for (let step = 0; step < steps; step++) {
      const trees = ctxs.map((c) => mode.build(c, r));
      const offsets = [0];
      for (const t of trees) offsets.push(offsets[offsets.length - 1] + t.tokens.length);
      const rows = offsets[batch];
      const tb: TreeBatch = {
        tokens: Int32Array.from(trees.flatMap((t) => t.tokens)),
        parents: Int32Array.from(trees.flatMap((t) => t.parents)),
        offsets: Int32Array.from(offsets),
      };
      const z = new Float32Array(rows * vocab);
      const q = new Float32Array(rows * vocab);
      trees.forEach((t, b) => {
        for (let v = 0; v < t.tokens.length; v++) {
          z.set(target.logits(nodeContext(ctxs[b], t, v)), (offsets[b] + v) * vocab);
          q.set(t.draftRows[v], (offsets[b] + v) * vocab);
        }
      });
      const targetL = { data: z, rows, vocab };
      const t0 = performance.now();
      const res = await verify(tb, targetL, {
        ...mode.verify,
        ...mode.processing,
        draft: deterministic ? undefined : { data: q, rows, vocab },
        seed,
        step: mi * 1_000_000 + step,
      });
      if (step > 0) verifyMs += performance.now() - t0; // step 0 warms up
      // E conditional on the drawn tree (for sampled drafts: exact recursive-rejection acceptance probabilities).
      const qOpts = deterministic ? {} : { drafts: mode.verify.drafts, draft: { data: q, rows, vocab } };
      const E = await expectedAcceptance(tb, targetL, { ...mode.processing, ...qOpts });
      const R = await gtoReward(tb, targetL, { ...mode.processing, ...qOpts, eta: 1 });
      for (let b = 0; b < batch; b++) {
        const A = res.acceptedLength[b];
        accepted.push(A);
        nodes.push(trees[b].tokens.length);
        firstAccepted.push(A >= 1 ? 1 : 0);
        expected.push(E[b]);
        diff.push(A - E[b]);
        rewards.push(R[b]);
        if (mode.verify.mode === 'greedy' && Math.abs(A - E[b]) > 1e-9) greedyMismatch++;
        const emitted = Array.from(res.tokens.subarray(res.tokenOffsets[b], res.tokenOffsets[b + 1]));
        emittedTotal += emitted.length;
        ctxs[b] = ctxs[b].concat(emitted).slice(-12);
      }
      if (mode.rootDrafts !== undefined) {
        // α* for the root's children vs the empirical first-token acceptance (T = 1, no filtering: p = softmax).
        for (let b = 0; b < batch; b++) {
          const row = offsets[b] * vocab;
          const p = Float64Array.from(z.subarray(row, row + vocab), Math.exp);
          const qq = Float64Array.from(q.subarray(row, row + vocab), Math.exp);
          const sp = p.reduce((s, x) => s + x, 0);
          const sq = qq.reduce((s, x) => s + x, 0);
          p.forEach((x, i) => (p[i] = x / sp));
          qq.forEach((x, i) => (qq[i] = x / sq));
          if (mode.verify.drafts === 'iid') {
            const a = await optimalAcceptance(p, qq, mode.rootDrafts, { replacement: true });
            alphaLow.push(a);
            alphaHigh.push(a);
          } else {
            const bd = await optimalAcceptanceBounds(p, qq, mode.rootDrafts);
            alphaLow.push(bd.lower);
            alphaHigh.push(bd.upper);
          }
        }
      }
    }
    const row = {
      mode: mode.name,
      trees: accepted.length,
      meanNodes: mean(nodes),
      meanAccepted: mean(accepted),
      seAccepted: stdErr(accepted),
      meanExpected: mean(expected),
      zScore: mode.verify.mode === 'greedy' ? 0 : mean(diff) / Math.max(stdErr(diff), 1e-300),
      greedyMismatches: mode.verify.mode === 'greedy' ? greedyMismatch : null,
      meanGtoReward: mean(rewards),
      tokensPerStep: emittedTotal / accepted.length,
      firstTokenAcceptance: mean(firstAccepted),
      alphaStar: mode.rootDrafts !== undefined ? [mean(alphaLow), mean(alphaHigh)] : null,
      verifyUsPerCall: (verifyMs * 1000) / Math.max(1, steps - 1),
    };
    results.push(row);
    console.log(JSON.stringify(row));
  }

  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const meta = { steps, batch, seed, vocab, corpusChars: text.length, target: 'char 6-gram (beta 0.5)', draft: 'char 3-gram (beta 2)' };
  fs.writeFileSync(path.join(outDir, 'specdec-sim.json'), JSON.stringify({ meta, results }, null, 2));
  const f = (x: number | null, d = 3) => (x === null ? '—' : x.toFixed(d));
  const md = [
    `# Speculative-decoding simulation`,
    ``,
    `Target: ${meta.target}; draft: ${meta.draft}; V = ${vocab}; ${batch} requests × ${steps} steps per mode; seed ${seed}.`,
    `A = accepted draft tokens per tree (verifyTree); E = tree.expectedAcceptance on the same trees (sampled drafts: given`,
    `the drawn tree, with the draft logits);`,
    `z = mean(A − E) / its standard error; α* = multidraft optimum for the root's children (bounds without replacement)`,
    `vs the empirical P(A ≥ 1).`,
    ``,
    `| mode | nodes | mean A ± se | mean E | z | greedy A≠E | GTO (η=1) | tokens/step | P(A≥1) | α* root | verify µs/call |`,
    `|---|---|---|---|---|---|---|---|---|---|---|`,
    ...results.map(
      (r) =>
        `| ${r.mode} | ${f(r.meanNodes, 1)} | ${f(r.meanAccepted)} ± ${f(r.seAccepted)} | ${f(r.meanExpected)} | ${f(r.zScore, 2)} | ` +
        `${r.greedyMismatches ?? '—'} | ${f(r.meanGtoReward)} | ${f(r.tokensPerStep)} | ${f(r.firstTokenAcceptance)} | ` +
        `${r.alphaStar ? (r.alphaStar[0] === r.alphaStar[1] ? f(r.alphaStar[0]) : `${f(r.alphaStar[0])}–${f(r.alphaStar[1])}`) : '—'} | ${f(r.verifyUsPerCall, 0)} |`,
    ),
    ``,
  ].join('\n');
  fs.writeFileSync(path.join(outDir, 'specdec-sim.md'), md);
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
