// verifyTree on the CPU emits the same tokens on every SIMD path whose row sums are bit-identical (AVX-512 and
// AVX2 share one exp, lane for lane, and one summation order), across processing settings and draft kinds, at
// vocabulary sizes that leave partial 8- and 16-lane tails. On a CPU without AVX-512 both runs take AVX2.
import { verifyTree } from '../lib/tree/verify';
import { rng } from './helpers/rng';


test.each([4999, 32003])('AVX-512 and AVX2 give identical tokens, V = %d', async (V) => {
  const r = rng(V);
  const B = 12, N = 10;
  const tokens = new Int32Array(B * N), parents = new Int32Array(B * N), offsets = new Int32Array(B + 1);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      parents[b * N + i] = i === 0 ? -1 : i < 5 ? i - 1 : Math.floor(r() * i);
      tokens[b * N + i] = (i * 7919 + b * 131) % V;
    }
    offsets[b + 1] = (b + 1) * N;
  }
  const z = new Float32Array(B * N * V);
  for (let i = 0; i < z.length; i++) z[i] = 2.5 * (r() + r() + r() - 1.5) * 2;
  for (let b = 0; b < B; b++)
    for (let i = 1; i < 5; i++) if (r() < 0.7) z[(b * N + i - 1) * V + tokens[b * N + i]] = 7 + 3 * r();
  const q = Float32Array.from(z, (v) => v + (r() - 0.5));
  const target = { data: z, rows: B * N, vocab: V }, draft = { data: q, rows: B * N, vocab: V };
  const settings = [{ temperature: 0.7 }, { topP: 0.9 }, { temperature: 0.8, topK: 40, topP: 0.95 }, { temperature: 1.3 }];
  const drafts = [{}, { drafts: 'iid' as const, draft }, { drafts: 'without-replacement' as const, draft }];
  const run = async (simd: 'avx2' | 'avx512') => {
    const out: number[] = [];
    for (const s of settings)
      for (const d of drafts)
        for (const seed of [1, 2, 3]) {
          const res = await verifyTree({ tokens, parents, offsets }, target, { mode: 'sample', seed, ...s, ...d, tuning: { simd } });
          out.push(...res.tokens, -1);
        }
    return out;
  };
  const wide = await run('avx512');
  const avx2 = await run('avx2');
  expect(wide).toEqual(avx2);
});
