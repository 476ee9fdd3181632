/**
 * A misspelt option key is an error on every public call: a TypeError (code ERR_INVALID_ARG_TYPE) naming the key
 * and the nearest valid one. The valid keys come from the fuzz surface (the keys its builders set plus the
 * `extraKeys` it declares), not from the library's own tables.
 */
import { TARGETS, seeded, type Target } from './helpers/surface';

/** Which arguments of each public call are options bags (every surface target must be classified). */
const OPTION_ARGS: Record<string, number[]> = {
  backendInfo: [],
  logitStats: [1],
  verifyTree: [2],
  'tree.validateTreeBatch': [1],
  'tree.treeCount': [],
  'tree.fromFirstChildNextSibling': [1],
  'tree.fromRetrieveIndices': [1],
  'tree.fromFirstChildNextSibling padded': [1],
  'tree.fromPaddedParents': [1],
  'tree.fromPaddedChains': [1],
  'verifyTree per-request seeds': [2],
  'verifyTree processors': [2],
  'tree.expectedAcceptance processors': [2],
  'tree.attentionMask': [1],
  'tree.expectedAcceptance': [2],
  'tree.nodeProbabilities': [2],
  'tree.gtoReward': [2],
  'specdec.stopIndex': [],
  'multidraft.optimalAcceptance': [3],
  'multidraft.optimalAcceptanceBounds': [3],
  'xl3m.plan': [1],
  'xl3m.segmentBounds': [],
  'xl3m.gatherQuestionLogits': [2],
  toBfloat16: [],
  fromBfloat16: [],
  toFloat16: [],
  fromFloat16: [],
  'xl3m.score': [1],
  'xl3m.coarseScore': [1],
  'xl3m.createScorer+push+finish': [0, 3],
  'xl3m.select': [2],
  'xl3m.rankSegments': [],
  'xl3m.keyContext': [3],
  'xl3m.sirllmScores': [1],
  'xl3m.topTokens': [],
  'xl3m.detectionStatistic': [1],
  'xl3m.llmlinguaKeepMask': [1],
  'scaling.fit': [1],
  'scaling.predict': [],
  'scaling.lossNS': [],
  'scaling.computeOptimal': [2],
  'scaling.isoflopApproach': [1],
  'scaling.minLossFrontier': [1],
  'scaling.diagnostics': [2],
  'scaling.parameterTest': [],
  'scaling.likelihoodRatioTest': [3],
  'scaling.subset': [1],
  'scaling.parseWhere': [],
  'scaling.trainingFlops': [2],
  'scaling.resampleFit': [1],
  'scaling.tableFromCsv': [],
  'scaling.isoflopRuns': [0],
  'scaling.criticalBatchSize': [1],
  'scaling.minSteps': [],
  'scaling.minExamples': [],
  'scaling.chinchillaRuns': [0],
  'scaling.datablationsRuns': [],
  'scaling.parseCsv': [1],
  'device.upload': [1],
  'device.wrap': [2],
};

/** Keys an options argument may hold, from the surface: what valid builds set, plus the declared extra keys. */
function validKeys(t: Target, arg: number): string[] {
  const keys = new Set(t.extraKeys?.[arg] ?? []);
  for (let seed = 0; seed < 40; seed++) {
    const a = t.build(seeded(seed))[arg];
    if (a !== null && typeof a === 'object') for (const k of Object.keys(a)) keys.add(k);
  }
  return [...keys];
}

/** A misspelling at distance 1 from `key` that no other valid key is as close to: first two letters swapped. */
function misspell(key: string): string {
  for (let i = 0; i + 1 < key.length; i++) {
    if (key[i] !== key[i + 1]) return key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
  }
  return key + 'x';
}

async function errorOf(call: () => unknown): Promise<(Error & { code?: string }) | undefined> {
  try {
    await call();
  } catch (e) {
    return e as Error & { code?: string };
  }
  return undefined;
}

test('every public function of the surface is classified', () => {
  expect(TARGETS.map((t) => t.name).sort()).toEqual(Object.keys(OPTION_ARGS).sort());
});

const cases = TARGETS.flatMap((t) => (OPTION_ARGS[t.name] ?? []).map((arg) => [t.name, arg] as const));

test.each(cases)('%s: a misspelt key in argument %i is an error naming the nearest valid key', async (name, arg) => {
  const t = TARGETS.find((x) => x.name === name)!;
  const keys = validKeys(t, arg);
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) {
    const args = t.build(seeded(1));
    const typo = misspell(key);
    if (keys.includes(typo)) continue;
    const base = (args[arg] ?? {}) as Record<string, unknown>;
    args[arg] = { ...base, [typo]: base[key] ?? 1 };
    const e = await errorOf(() => t.call(args));
    expect(e).toBeInstanceOf(TypeError);
    expect(e?.message).toContain(`unknown option '${typo}'`);
    expect(e?.message).toContain(`did you mean '${key}'?`);
    expect(e?.code).toBe('ERR_INVALID_ARG_TYPE');
  }
  // A key far from every valid one lists them instead.
  const args = t.build(seeded(2));
  args[arg] = { ...((args[arg] ?? {}) as object), frobnicate: 2 };
  const e = await errorOf(() => t.call(args));
  expect(e).toBeInstanceOf(TypeError);
  expect(e?.message).toMatch(/unknown option 'frobnicate' in \S+ \(valid options: /);
});

test('case-only misspellings and nested option objects are caught too', async () => {
  const fit = TARGETS.find((x) => x.name === 'scaling.fit')!;
  const args = fit.build(seeded(3));
  args[1] = { ...(args[1] as object), bootstrap: { resamples: 1, seed: 1, Level: 0.9 } };
  const e = await errorOf(() => fit.call(args));
  expect(e?.message).toBe("unknown option 'Level' in opts.bootstrap (did you mean 'level'?)");
});

test("the processors' nested objects reject misspelt keys", async () => {
  const { verifyTree, tree } = await import('../../lib');
  const trees = { tokens: Int32Array.of(0, 1), parents: Int32Array.of(-1, 0), offsets: Int32Array.of(0, 2) };
  const target = { data: new Float32Array(8), rows: 2, vocab: 4 };
  const history = { offsets: Int32Array.of(0, 0), ids: new Int32Array(0), counts: new Int32Array(0) };
  const e1 = await errorOf(() => verifyTree(trees, target, { mode: 'sample', seed: 1, logitBias: { offsets: Int32Array.of(0, 0), ids: new Int32Array(0), vales: new Float32Array(0) } } as never));
  expect(e1?.message).toBe("unknown option 'vales' in opts.logitBias (did you mean 'values'?)");
  const e2 = await errorOf(() => tree.expectedAcceptance(trees, target, { penalties: { presense: 1, history } } as never));
  expect(e2?.message).toBe("unknown option 'presense' in opts.penalties (did you mean 'presence'?)");
  const e3 = await errorOf(() => verifyTree(trees, target, { mode: 'sample', seed: 1, penalties: { history: { ...history, coutns: history.counts } } } as never));
  expect(e3?.message).toBe("unknown option 'coutns' in opts.penalties.history (did you mean 'counts'?)");
  expect(e3?.code).toBe('ERR_INVALID_ARG_TYPE');
});

test('the importers and layouts outside the fuzz surface reject misspelt keys too', async () => {
  const { tree } = await import('../../lib');
  const chains = { drafts: Int32Array.of(1, 2), maxDrafts: 2 };
  expect(() => tree.fromPaddedChains(chains, { vocab: 5, alowDuplicateSiblings: true } as never)).toThrow(
    "unknown option 'alowDuplicateSiblings' in opts (did you mean 'allowDuplicateSiblings'?)",
  );
  // The padded-only importers have no `padded` option.
  expect(() => tree.fromPaddedChains(chains, { padded: true } as never)).toThrow(/unknown option 'padded' in opts/);
  const parents = { tokens: Int32Array.of(0, 1), parents: Int32Array.of(-1, 0), nodesPerTree: 2 };
  expect(() => tree.fromPaddedParents(parents, { vocabs: 5 } as never)).toThrow(/did you mean 'vocab'\?/);
  expect(() => tree.fromRetrieveIndices(
    { tokens: Int32Array.of(0, 1), retrieveIndices: Int32Array.of(0, 1), nodesPerTree: 2, paths: 1 },
    { paded: true } as never,
  )).toThrow(/did you mean 'padded'\?/);
  const trees = tree.fromPaddedParents(parents).trees;
  const result = { acceptedLength: Int32Array.of(1), acceptedNodes: Int32Array.of(0, 1), tokens: Int32Array.of(1, 3), tokenOffsets: Int32Array.of(0, 2) };
  expect(() => tree.toLayout(result, trees, { layout: 'vllm', widht: 4 } as never)).toThrow(/did you mean 'width'\?/);
  expect(tree.toLayout(result, trees, { layout: 'vllm' }).vllm).toBeDefined();
});
