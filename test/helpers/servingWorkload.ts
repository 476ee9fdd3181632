/**
 * Child-process script (`node bench/run.js test/helpers/servingWorkload.ts`): prints one JSON line with the
 * tokens of a seeded verifyTree workload. LW_WORKLOAD = 'per-request' (BigUint64Array seeds, Uint32Array steps)
 * or 'bigint' (one bigint seed and a number step per call: the API every build has) or 'caps' (per-request, with
 * per-request maxAccepted and placeholder drafts). LW_LIB: the library to
 * load (default this checkout's lib/; e.g. another build's dist/ to compare builds).
 */
import * as path from 'path';
import { MODES, batchOf, makeRequests, optionsOf, withCapsAndPlaceholders } from './servingRequests';
import { rng } from './rng';

type Lib = {
  verifyTree: (t: unknown, l: unknown, o: unknown) => Promise<{ acceptedNodes: Int32Array; tokens: Int32Array; tokenOffsets: Int32Array }>;
  backendInfo: () => { threads: number };
};

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require(process.env.LW_LIB ?? path.join(__dirname, '..', '..', 'lib')) as Lib;
  const workload = process.env.LW_WORKLOAD ?? 'per-request';
  const results: unknown[] = [];
  const perRequest = workload === 'per-request' || workload === 'caps';
  const V = perRequest ? 4096 : 512;
  const r = rng(workload === 'caps' ? 2027 : 2026);
  const calls = perRequest ? 8 : 240;
  for (let c = 0; c < calls; c++) {
    const mode = MODES[c % MODES.length];
    let reqs = makeRequests(r, perRequest ? 64 : 1 + (c % 24), 10, V, mode === 'iid');
    if (workload === 'caps') reqs = withCapsAndPlaceholders(r, reqs);
    const b = batchOf(reqs, V);
    const opts = optionsOf(b, mode);
    if (workload === 'bigint') {
      opts.seed = reqs[0].seed;
      opts.step = reqs[0].step;
    }
    const out = await lib.verifyTree(b.trees, b.target, opts);
    results.push([Array.from(out.tokenOffsets), Array.from(out.acceptedNodes), Array.from(out.tokens)]);
  }
  process.stdout.write(JSON.stringify({ threads: lib.backendInfo().threads, results }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
