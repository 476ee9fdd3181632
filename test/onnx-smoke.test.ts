import './onnx-jest-realm';
import { speculative } from '../lib';
import { loadModel } from '../lib/onnx';
import { plainGreedy } from './speculative-fake-model';
test('onnx smoke', async () => {
  const target = await loadModel('/work/wt/models-dev/target.onnx', { threads: 1 });
  const draft = await loadModel('/work/wt/models-dev/draft.onnx', { threads: 1 });
  const prompt = [1, 15043, 3186];
  let t0 = performance.now();
  const ref = await plainGreedy(target, prompt, 12);
  console.log('plain', performance.now() - t0, ref.tokens.join(','), Math.min(...ref.margins));
  for (const tree of [{ kind: 'none' }, { kind: 'chain', k: 3 }, { kind: 'static' }, { kind: 'dynamic', budget: 16 }] as const) {
    const dec = speculative.createDecoder({ target, draft, tree });
    t0 = performance.now();
    const r = await dec.generate([prompt], { maxTokens: 12, temperature: 0, eosId: null });
    console.log(tree.kind, performance.now() - t0, r.tokens[0]!.join(','), JSON.stringify(r.stats));
    expect(r.tokens[0]).toEqual(ref.tokens);
  }
});
