// verifyTree checks the trees' nodes (token ids, roots, parents) only when something fails (core's plan_trees checks
// them on every call): the rejection must still be validateTreeBatch's message, ahead of every later problem
// (a bad option, an aborted signal, a native error), async and sync alike.
import { verifyTree, type VerifyTreeOptions } from '../lib/tree/verify';
import { type TreeBatch, validateTreeBatch } from '../lib/tree/types';

const V = 4;
const tb = (tokens: number[], parents: number[], offsets: number[]): TreeBatch => ({
  tokens: Int32Array.from(tokens),
  parents: Int32Array.from(parents),
  offsets: Int32Array.from(offsets),
});
const target = (nodes: number) => ({ data: new Float32Array(nodes * V), rows: nodes, vocab: V });

// What validateTreeBatch says about the batch (verifyTree's own check before the deferral).
function treeMessage(trees: TreeBatch): string {
  try {
    validateTreeBatch(trees, { vocab: V, allowDuplicateSiblings: true });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the batch is well formed');
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('resolved');
}

const malformed: [string, TreeBatch][] = [
  ['parent >= child', tb([0, 1, 2], [-1, 2, 1], [0, 3])],
  ['negative parent', tb([0, 1, 2, 3], [-1, 0, -3, 0], [0, 2, 4])],
  ['root with a parent', tb([0, 1, 2, 3], [-1, 0, 0, 0], [0, 2, 4])],
  ['token >= vocab', tb([0, 1, 4], [-1, 0, 0], [0, 3])],
  ['token -2', tb([0, -2, 1], [-1, 0, 0], [0, 3])],
  ['bad token in tree 1, bad parent in tree 0', tb([0, 1, 1, 9], [-1, 5, -1, 0], [0, 2, 4])],
];

const aborted = () => {
  const c = new AbortController();
  c.abort();
  return c.signal;
};

const variants: [string, Partial<VerifyTreeOptions>][] = [
  ['alone', {}],
  ['sync', { sync: true }],
  ['with a signal', { signal: new AbortController().signal }],
  ['with an aborted signal', { signal: aborted() }],
  ['with a bad seed', { mode: 'sample', seed: -1 }],
  ['with a bad maxAccepted', { maxAccepted: -1 }],
  ['with a bad layout', { layout: 'nope' as 'compact' }],
  ['with a bad sync', { sync: 'yes' as unknown as boolean }],
];

describe('verifyTree: malformed nodes are reported by the TypeScript layer, first', () => {
  for (const [name, trees] of malformed) {
    test.each(variants)(`${name}, %s`, async (_v, extra) => {
      const err = await rejection(verifyTree(trees, target(trees.tokens.length), { mode: 'greedy', ...extra } as VerifyTreeOptions));
      expect(err).toBeInstanceOf(RangeError);
      expect(err.message).toBe(treeMessage(trees));
    });
  }
});

describe('verifyTree: a well-formed tree lets the later problem through', () => {
  const t = tb([0, 1, 2], [-1, 0, 0], [0, 3]);
  test('a bad seed', async () => {
    await expect(verifyTree(t, target(3), { mode: 'sample', seed: -1 })).rejects.toThrow(/opts.seed must be a safe integer/);
  });
  test('an aborted signal', async () => {
    const err = await rejection(verifyTree(t, target(3), { mode: 'greedy', signal: aborted() }));
    expect(err.name).toBe('AbortError');
  });
  test("core's duplicate-sibling check", async () => {
    const dup = tb([0, 1, 1], [-1, 0, 0], [0, 3]);
    for (const sync of [false, true]) {
      await expect(verifyTree(dup, target(3), { mode: 'greedy', sync })).rejects.toThrow(
        'trees.tokens: nodes 1 and 2 are siblings with the same token 1',
      );
    }
  });
  test('the call never throws synchronously', () => {
    const p = verifyTree(null as unknown as TreeBatch, target(3), { mode: 'greedy' });
    expect(p).toBeInstanceOf(Promise);
    return expect(p).rejects.toThrow(TypeError);
  });
});
