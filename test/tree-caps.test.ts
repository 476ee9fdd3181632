// maxAccepted (a cap on accepted drafts, one or one per tree) and placeholder drafts (token -1, legal in any tree,
// never accepted, subtree unreachable): exact equivalences for every mode, greedy tokens, χ² exactness,
// batch invariance with per-request seeds (also across thread counts), the tree utilities, bad input.
//
// χ² here: 2 × 10^5 trials per scenario (the native check test/native/tree_verify_check.cc runs 10^6 per
// scenario and more scenarios); the first three tokens of the generated sequence (emitted tokens continued
// autoregressively from the target) against autoregressive sampling from the processed target, cells with
// expected count >= 5 (the rest pooled); fixed seeds (deterministic); fails below p = 1e-4 or on any
// zero-probability sequence.
import { spawn } from 'child_process';
import * as path from 'path';
import { verifyTree, type DraftKind } from '../lib/tree/verify';
import { expectedAcceptance, gtoReward, nodeProbabilities } from '../lib/tree/utils';
import { validateTreeBatch, type TreeBatch } from '../lib/tree/types';
import { MODES, type Mode, batchOf, makeRequests, optionsOf, slice, withCapsAndPlaceholders, type Request } from './helpers/servingRequests';
import { ToyModel, chi2, draw, type DraftShape } from './helpers/toyModel';
import { randInt, rng } from './helpers/rng';

const V = 48;
const NO_CAP = 0x7fffffff;

async function verify(reqs: Request[], mode: Mode, extra: Record<string, unknown> = {}) {
  const b = batchOf(reqs, V);
  return verifyTree(b.trees, b.target, { ...optionsOf(b, mode), ...extra } as never);
}

/** Local depth of every node of one tree. */
function depths(parents: Int32Array): number[] {
  const d = [0];
  for (let i = 1; i < parents.length; i++) d.push(d[parents[i]] + 1);
  return d;
}

describe('maxAccepted and placeholders: exact equivalences, every mode', () => {
  test.each(MODES)('%s: cap c gives the tokens of the tree whose nodes deeper than c are placeholders', async (mode) => {
    const r = rng(300 + MODES.indexOf(mode));
    let capped = 0;
    for (const size of [1, 5, 33]) {
      const reqs = makeRequests(r, size, 10, V, mode === 'iid');
      const caps = reqs.map(() => randInt(r, 4));
      const withCap = await verify(reqs.map((q, i) => ({ ...q, maxAccepted: caps[i] })), mode);
      const cut = reqs.map((q, i) => {
        const d = depths(q.parents);
        return { ...q, tokens: q.tokens.map((t, j) => (d[j] > caps[i] ? -1 : t)) };
      });
      const asPlaceholders = await verify(cut, mode);
      expect(withCap.tokens).toEqual(asPlaceholders.tokens);
      expect(withCap.acceptedNodes).toEqual(asPlaceholders.acceptedNodes);
      for (let i = 0; i < reqs.length; i++) {
        expect(withCap.acceptedLength[i]).toBeLessThanOrEqual(caps[i]);
        if (withCap.acceptedLength[i] === caps[i] && caps[i] < Math.max(...depths(reqs[i].parents))) capped++;
      }
      // A cap at least the depth changes nothing; one number equals the same number per tree.
      const plain = await verify(reqs, mode);
      const big = await verify(reqs.map((q) => ({ ...q, maxAccepted: 10 })), mode);
      expect(big.tokens).toEqual(plain.tokens);
      const b = batchOf(reqs, V);
      const scalar = await verifyTree(b.trees, b.target, { ...optionsOf(b, mode), maxAccepted: 1 } as never);
      const arr = await verify(reqs.map((q) => ({ ...q, maxAccepted: 1 })), mode);
      expect(scalar.tokens).toEqual(arr.tokens);
    }
    expect(capped).toBeGreaterThan(3); // the cap really stopped walks
  });

  test.each(MODES)('%s: placeholder subtrees appended as last children leave every token unchanged', async (mode) => {
    const r = rng(400 + MODES.indexOf(mode));
    const reqs = makeRequests(r, 40, 9, V, mode === 'iid');
    const padded = reqs.map((q) => {
      const n = q.tokens.length;
      const extra = 1 + randInt(r, 4);
      const tokens = new Int32Array(n + extra);
      const parents = new Int32Array(n + extra);
      tokens.set(q.tokens);
      parents.set(q.parents);
      for (let j = n; j < n + extra; j++) {
        // A placeholder under an existing node, or a real-looking node under a placeholder (unreachable).
        const under = randInt(r, j);
        parents[j] = under;
        tokens[j] = under >= n && r() < 0.5 ? j % V : -1; // distinct among siblings
      }
      const grow = (rows: Float32Array) => {
        const out = new Float32Array((n + extra) * V);
        out.set(rows);
        for (let i = n * V; i < out.length; i++) out[i] = r() < 0.5 ? 30 : NaN; // never read (NaN would throw)
        return out;
      };
      return { ...q, tokens, parents, target: grow(q.target), draft: grow(q.draft) };
    });
    const a = await verify(reqs, mode);
    const b = await verify(padded, mode);
    for (let i = 0; i < reqs.length; i++) expect(slice(b, i)).toEqual(slice(a, i));
  });

  test('greedy: exact tokens with caps and placeholders (hand-built trees)', async () => {
    // Tree 0: chain 1 → 2 → 3 under the root plus a placeholder child of the root; row i's argmax is i + 1,
    // the leaf's (node 3) is 0. Tree 1: root with a placeholder child and a child 6; argmax of the root row is
    // 6, of the child's row 7.
    const trees: TreeBatch = {
      tokens: Int32Array.from([7, 1, 2, 3, -1, 0, -1, 6]),
      parents: Int32Array.from([-1, 0, 1, 2, 0, -1, 0, 0]),
      offsets: Int32Array.from([0, 5, 8]),
    };
    const Vs = 8;
    const z = new Float32Array(8 * Vs);
    for (let i = 0; i < 3; i++) z[i * Vs + i + 1] = 5;
    z[3 * Vs + 0] = 5;
    z[4 * Vs + 0] = 5;
    z[5 * Vs + 6] = 5;
    z[7 * Vs + 7] = 5;
    const target = { data: z, rows: 8, vocab: Vs };
    const cases: [number | Int32Array | undefined, number[][]][] = [
      [undefined, [[1, 2, 3, 0], [6, 7]]],
      [0, [[1], [6]]],
      [1, [[1, 2], [6, 7]]],
      [2, [[1, 2, 3], [6, 7]]],
      [Int32Array.from([3, 0]), [[1, 2, 3, 0], [6]]],
      [Int32Array.from([NO_CAP, 1]), [[1, 2, 3, 0], [6, 7]]],
    ];
    for (const [maxAccepted, want] of cases) {
      for (const opts of [{ mode: 'greedy' as const }, { mode: 'sample' as const, temperature: 0 }]) {
        const res = await verifyTree(trees, target, { ...opts, seed: 1, ...(maxAccepted === undefined ? {} : { maxAccepted }) });
        expect([0, 1].map((b) => Array.from(res.tokens.subarray(res.tokenOffsets[b], res.tokenOffsets[b + 1])))).toEqual(want);
        expect(Array.from(res.acceptedLength)).toEqual(want.map((w) => w.length - 1));
      }
    }
  });

  test('accepted paths never pass a cap or contain a placeholder (random batches, every mode)', async () => {
    const r = rng(9);
    for (const mode of MODES) {
      const reqs = withCapsAndPlaceholders(r, makeRequests(r, 64, 10, V, mode === 'iid'));
      const res = await verify(reqs, mode);
      reqs.forEach((q, i) => {
        expect(res.acceptedLength[i]).toBeLessThanOrEqual(q.maxAccepted!);
        for (const node of slice(res, i).nodes.slice(1)) expect(q.tokens[node]).not.toBe(-1);
      });
    }
  });
});

describe('batch invariance with caps and placeholders (per-request seeds)', () => {
  test.each(MODES)('%s: each request of random batches gets its tokens verified alone', async (mode) => {
    const r = rng(2000 + MODES.indexOf(mode));
    let accepted = 0;
    let checked = 0;
    for (const size of [1, 3, 64, 1 + randInt(r, 64)]) {
      const reqs = withCapsAndPlaceholders(r, makeRequests(r, size, 10, V, mode === 'iid'));
      const all = await verify(reqs, mode);
      const perm = reqs.map((_, i) => i).sort(() => r() - 0.5);
      const extra = withCapsAndPlaceholders(r, makeRequests(r, randInt(r, 5), 8, V, mode === 'iid'));
      const shuffled = await verify([...extra, ...perm.map((i) => reqs[i])], mode);
      const alone = await Promise.all(reqs.map((q) => verify([q], mode)));
      for (let i = 0; i < reqs.length; i++) {
        expect(slice(all, i)).toEqual(slice(alone[i], 0));
        expect(slice(shuffled, extra.length + perm.indexOf(i))).toEqual(slice(all, i));
        accepted += all.acceptedLength[i];
        checked++;
      }
    }
    expect(accepted).toBeGreaterThan(checked / 5);
  });

  // Child process per thread count (the pool is sized once per process): every mode, caps and placeholders.
  test('the same tokens on 1, 2 and 3 threads (each in its own process), every mode', async () => {
    const root = path.join(__dirname, '..');
    const child = (threads: string) =>
      new Promise<string>((resolve, reject) => {
        const p = spawn(process.execPath, [path.join(root, 'bench', 'run.js'), path.join(__dirname, 'helpers', 'servingWorkload.ts')], {
          env: { ...process.env, LENGTHWISE_THREADS: threads, LW_WORKLOAD: 'caps' },
          cwd: root,
        });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
      });
    const runs = (await Promise.all(['1', '2', '3'].map(child))).map((s) => JSON.parse(s) as { threads: number; results: unknown[] });
    expect(runs.map((x) => x.threads)).toEqual([1, 2, 3]);
    expect(runs[0].results.length).toBe(8); // 2 calls of 64 requests per mode
    expect(runs[1].results).toEqual(runs[0].results);
    expect(runs[2].results).toEqual(runs[0].results);
  });
});

describe('χ² exactness with maxAccepted and placeholders (2 × 10^5 trials per scenario, p > 1e-4)', () => {
  const CHAIN = [-1, 0, 1, 2];
  const WIDE = [-1, 0, 0, 0, 0];
  const DEEP_WIDE = [-1, 0, 0, 0, 1, 1, 2, 4, 7];
  // [name, drafts, shape, caps per request (b % length; -1 = none), placeholder nodes, T, topK, topP, q]
  const scenarios: [string, DraftKind, number[], number[], number[], number, number, number, DraftShape][] = [
    ['cap 0 deterministic deep+wide', 'deterministic', DEEP_WIDE, [0], [], 1, 0, 1, 'indep'],
    ['cap 1 deterministic deep+wide T=0.8 k=3', 'deterministic', DEEP_WIDE, [1], [], 0.8, 3, 1, 'indep'],
    ['caps 0/1/none/2 + placeholders 2,5 deterministic', 'deterministic', DEEP_WIDE, [0, 1, -1, 2], [2, 5], 1, 0, 1, 'indep'],
    ['cap 1 iid chain (C)', 'iid', CHAIN, [1], [], 1, 0, 1, 'indep'],
    ['caps 0/1/none/2 iid deep+wide q=p', 'iid', DEEP_WIDE, [0, 1, -1, 2], [], 1.2, 0, 1, 'p'],
    ['placeholders 1,3 iid wide', 'iid', WIDE, [], [1, 3], 1, 0, 0.9, 'indep'],
    ['caps 1/none + placeholders 3,4 iid deep+wide', 'iid', DEEP_WIDE, [1, -1], [3, 4], 1, 0, 1, 'flat'],
    ['cap 0 without-replacement wide', 'without-replacement', WIDE, [0], [], 1, 0, 1, 'indep'],
    ['caps 0/1/none/2 without-replacement deep+wide', 'without-replacement', DEEP_WIDE, [0, 1, -1, 2], [], 0.8, 0, 1, 'indep'],
    ['placeholders 1,4 without-replacement deep+wide k=4', 'without-replacement', DEEP_WIDE, [], [1, 4], 1, 4, 1, 'indep'],
    ['all placeholders without-replacement wide (root only)', 'without-replacement', WIDE, [], [1, 2, 3, 4], 1, 0, 1, 'indep'],
  ];
  const TRIALS = 200_000;
  const PER_CALL = 50_000;
  const L = 3;

  test.each(scenarios)('%s', async (_name, drafts, shape, caps, holes, T, topK, topP, qshape) => {
    const Vs = 5;
    const m = new ToyModel(Vs, { temperature: T, topK, topP }, qshape, 17 + scenarios.findIndex((s) => s[0] === _name));
    const n = shape.length;
    const r = rng(m.salt * 7919);
    const counts = new Float64Array(Vs ** L);
    let overCap = 0;
    for (let step = 0; step < TRIALS / PER_CALL; step++) {
      const tokens = new Int32Array(PER_CALL * n);
      const parents = new Int32Array(PER_CALL * n);
      const offsets = new Int32Array(PER_CALL + 1);
      const tz = new Float32Array(PER_CALL * n * Vs);
      const qz = drafts === 'deterministic' ? undefined : new Float32Array(PER_CALL * n * Vs);
      const keys = new Float64Array(n);
      const q = new Float64Array(Vs);
      const maxAccepted = new Int32Array(PER_CALL);
      for (let b = 0; b < PER_CALL; b++) {
        const o = b * n;
        offsets[b + 1] = o + n;
        maxAccepted[b] = caps.length === 0 || caps[b % caps.length] < 0 ? NO_CAP : caps[b % caps.length];
        for (let i = 0; i < n; i++) {
          const par = shape[i];
          parents[o + i] = par;
          if (i === 0) {
            keys[0] = 1;
          } else if (holes.includes(i)) {
            tokens[o + i] = -1; // padding, not a draw; its row (and its subtree's) is the parent's context + 0
            keys[i] = m.child(keys[par], 0);
          } else {
            let tok: number;
            const sib: number[] = [];
            for (let c = 1; c < i; c++) if (shape[c] === par && tokens[o + c] !== -1) sib.push(tokens[o + c]);
            if (drafts === 'deterministic') {
              do tok = Math.floor(r() * Vs); while (sib.includes(tok));
            } else {
              q.set(m.qd(keys[par]));
              if (drafts === 'without-replacement') for (const s of sib) q[s] = 0;
              tok = draw(q, r());
            }
            tokens[o + i] = tok;
            keys[i] = m.child(keys[par], tok);
          }
          tz.set(m.target(keys[i]), (o + i) * Vs);
          if (qz) qz.set(m.draft(keys[i]), (o + i) * Vs);
        }
      }
      const res = await verifyTree({ tokens, parents, offsets }, { data: tz, rows: PER_CALL * n, vocab: Vs }, {
        mode: 'sample', drafts, draft: qz && { data: qz, rows: PER_CALL * n, vocab: Vs },
        temperature: T, topK, topP, seed: 5000 + m.salt, step, maxAccepted,
      });
      for (let b = 0; b < PER_CALL; b++) {
        if (res.acceptedLength[b] > maxAccepted[b]) overCap++;
        const seq = Array.from(res.tokens.subarray(res.tokenOffsets[b], Math.min(res.tokenOffsets[b + 1], res.tokenOffsets[b] + L)));
        while (seq.length < L) seq.push(draw(m.p(m.key(seq)), r()));
        counts[seq.reduce((k, t) => k * Vs + t, 0)]++;
      }
    }
    const expectP = new Float64Array(Vs ** L);
    for (let idx = 0; idx < expectP.length; idx++) {
      const seq: number[] = [];
      for (let i = 0, t = idx; i < L; i++, t = Math.floor(t / Vs)) seq.unshift(t % Vs);
      let pr = 1;
      for (let i = 0; i < L; i++) pr *= m.p(m.key(seq.slice(0, i)))[seq[i]];
      expectP[idx] = pr;
    }
    const c = chi2(counts, expectP, TRIALS);
    console.log(`${_name}: first ${L} tokens χ²=${c.stat.toFixed(1)} dof ${c.dof} p=${c.p.toFixed(3)}`);
    expect(overCap).toBe(0);
    expect(c.impossible).toBe(0);
    expect(c.p).toBeGreaterThan(1e-4);
  });
});

describe('tree utilities with placeholders', () => {
  test('a placeholder is never accepted: probability 0 below it; E[A] and the reward equal the pruned tree', async () => {
    // Root → 1 → 2 and root → placeholder → 3; and root → placeholder, root → 4 (the first parent of only
    // placeholders becomes a leaf).
    const full: TreeBatch = {
      tokens: Int32Array.from([0, 1, 2, -1, 3, 0, -1, 4]),
      parents: Int32Array.from([-1, 0, 1, 0, 3, -1, 0, 0]),
      offsets: Int32Array.from([0, 5, 8]),
    };
    const pruned: TreeBatch = {
      tokens: Int32Array.from([0, 1, 2, 0, 4]),
      parents: Int32Array.from([-1, 0, 1, -1, 0]),
      offsets: Int32Array.from([0, 3, 5]),
    };
    const r = rng(4);
    const Vs = 6;
    const zf = Float32Array.from({ length: 8 * Vs }, () => 3 * r());
    const rowsOf = [0, 1, 2, 5, 7]; // pruned node -> full node
    const zp = new Float32Array(5 * Vs);
    rowsOf.forEach((g, i) => zp.set(zf.subarray(g * Vs, (g + 1) * Vs), i * Vs));
    const tf = { data: zf, rows: 8, vocab: Vs };
    const tp = { data: zp, rows: 5, vocab: Vs };
    for (const opts of [{}, { temperature: 0.7, topK: 3 }, { mode: 'greedy' as const }]) {
      const ef = await expectedAcceptance(full, tf, opts);
      const ep = await expectedAcceptance(pruned, tp, opts);
      expect(Array.from(ef)).toEqual(Array.from(ep));
      const pf = await nodeProbabilities(full, tf, opts);
      expect(pf[3]).toBe(0);
      expect(pf[4]).toBe(0);
      expect(pf[6]).toBe(0);
      const gf = await gtoReward(full, tf, { ...opts, eta: 2 });
      const gp = await gtoReward(pruned, tp, { ...opts, eta: 2 });
      for (let b = 0; b < 2; b++) expect(gf[b]).toBeCloseTo(gp[b], 12);
    }
  });
});

describe('bad input', () => {
  const trees: TreeBatch = { tokens: Int32Array.from([0, 1, 2]), parents: Int32Array.from([-1, 0, 0]), offsets: Int32Array.from([0, 3]) };
  const target = { data: new Float32Array(3 * 4), rows: 3, vocab: 4 };
  const run = (o: Record<string, unknown>, t: TreeBatch = trees) => verifyTree(t, target, { mode: 'sample', seed: 1, ...o } as never);

  test('negative, fractional or mistyped caps name opts.maxAccepted', async () => {
    await expect(run({ maxAccepted: -1 })).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/opts\.maxAccepted/) });
    await expect(run({ maxAccepted: 1.5 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(run({ maxAccepted: NaN })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(run({ maxAccepted: Int32Array.from([-2]) })).rejects.toMatchObject({ name: 'RangeError', message: expect.stringMatching(/opts\.maxAccepted\[0\]/) });
    await expect(run({ maxAccepted: new Int32Array(2) })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/one entry per tree \(1\)/) });
    await expect(run({ maxAccepted: new Uint32Array(1) })).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    await expect(run({ maxAccepted: '1' })).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    await expect(run({ maxAcepted: 1 })).rejects.toMatchObject({ name: 'TypeError', message: expect.stringMatching(/maxAccepted/) });
    const ok = await run({ maxAccepted: 0 });
    expect(ok.acceptedLength[0]).toBe(0);
  });

  test('-1 is the only legal negative token; placeholders may repeat among siblings', async () => {
    const neg = { ...trees, tokens: Int32Array.from([0, -2, 1]) };
    await expect(run({}, neg)).rejects.toMatchObject({ name: 'RangeError', message: expect.stringMatching(/trees\.tokens\[1\] = -2/) });
    const two = { ...trees, tokens: Int32Array.from([-1, -1, -1]) };
    expect(() => validateTreeBatch(two, { vocab: 4, allowDuplicateSiblings: false })).not.toThrow();
    const res = await run({}, two);
    expect(res.acceptedLength[0]).toBe(0);
    const dup = { ...trees, tokens: Int32Array.from([0, 2, 2]) };
    await expect(run({}, dup)).rejects.toThrow(/same token/);
  });
});
