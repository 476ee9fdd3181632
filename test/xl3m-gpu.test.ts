// CUDA vs CPU for XL3M scoring; skips cleanly without the CUDA addon or a GPU.
import { upload } from '../lib/device';
import { score, createScorer } from '../lib/xl3m/score';
import { needleScenario, questionLogits } from '../lib/demo/needle';
import { select } from '../lib/xl3m/select';
import { type RefDType, wideLogits } from './helpers/logits';
import { rng } from './helpers/rng';
import { describeGpu } from './helpers/gpu';
import { backendInfo } from '../lib/runtime/backend';



describeGpu('xl3m on CUDA', () => {
  const cases: [RefDType, number, number, number][] = [
    ['float32', 3, 4, 7],
    ['float16', 2, 5, 40001],
    ['bfloat16', 64, 8, 32000],
    ['bfloat16', 5, 3, 128256],
    ['float32', 2, 2, 300007], // rows split across blocks
  ];
  test.each(cases)('%s %i×%i×%i: cuda (host and device input) matches cpu', async (dtype, S, P, V) => {
    const rows = S * P;
    const data = wideLogits(dtype, rows * V, rng(S + V));
    const r = rng(V);
    const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * V));
    const dev = await upload(data);
    try {
      for (const metric of ['entropy', 'nll'] as const) {
        for (const pooling of ['mean', 'last', 'min'] as const) {
          const opts = { segments: S, metric, pooling, targets, temperature: 0.9 };
          const cpu = await score({ data, dtype, rows, vocab: V }, { ...opts, backend: 'cpu' });
          const host = await score({ data, dtype, rows, vocab: V }, { ...opts, backend: 'cuda' });
          const onDev = await score({ data: dev, dtype, rows, vocab: V }, opts);
          for (let s = 0; s < S; s++) {
            expect(Math.abs(host[s]! - cpu[s]!)).toBeLessThan(3e-5 + 3e-6 * Math.abs(cpu[s]!));
            expect(onDev[s]).toBe(host[s]);
          }
        }
      }
    } finally {
      dev.dispose();
    }
  });

  test('streaming device chunks equals one-shot on CUDA', async () => {
    const S = 6, P = 4, V = 50000, rows = S * P;
    const data = wideLogits('bfloat16', rows * V, rng(3)) as Uint16Array;
    const once = await score({ data, dtype: 'bfloat16', rows, vocab: V }, { segments: S, backend: 'cuda' });
    const sc = createScorer({ segments: S, positionsPerSegment: P });
    for (const [a, b] of [[0, 5], [5, 6], [6, 24]] as const) {
      const t = await upload(data.subarray(a * V, b * V));
      await sc.push({ data: t, dtype: 'bfloat16', rows: b - a, vocab: V });
      t.dispose();
    }
    // Row values do not depend on chunking (the split depends on the vocabulary only); with rows whose byte
    // offsets keep 16-byte alignment (V × 2 = 100000 here) they are bit-identical, else within fp32 rounding.
    const got = sc.finish();
    for (let s = 0; s < S; s++) expect(Math.abs(got[s]! - once[s]!)).toBeLessThanOrEqual(1e-6 * Math.abs(once[s]!));
  });

  test('host logits split over devices ([0, 0], every GPU, default) give the one-device bits', async () => {
    const S = 300, P = 4, V = 32000, rows = S * P; // 77 MB of bf16: the automatic split size
    const data = wideLogits('bfloat16', rows * V, rng(17));
    const l = { data, dtype: 'bfloat16' as const, rows, vocab: V };
    const one = await score(l, { segments: S, backend: 'cuda', devices: [0] });
    const n = backendInfo().devices.length;
    for (const devices of [undefined, [0, 0], Array.from({ length: n }, (_, d) => d)]) {
      const got = await score(l, { segments: S, backend: 'cuda', ...(devices ? { devices } : {}) });
      expect(Buffer.from(got.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    }
    const dev = await upload(data.subarray(0, 8 * V));
    try {
      await expect(score({ data: dev, dtype: 'bfloat16', rows: 8, vocab: V }, { segments: 2, devices: [0] })).rejects.toThrow(/opts\.devices applies to host logits/);
    } finally {
      dev.dispose();
    }
  });

  test('needle found on CUDA', async () => {
    const sc = needleScenario({ needleAt: 0.45, seed: 11 });
    const q = questionLogits(sc.lm, sc.plan);
    const s = await score({ data: q.data, rows: q.rows, vocab: q.vocab }, { segments: sc.plan.segments.length, backend: 'cuda' });
    const chosen = select(s, sc.plan, { topK: 1 })[0]!;
    const seg = sc.plan.segments[chosen]!;
    expect(seg.start <= sc.needle.start && sc.needle.end <= seg.end).toBe(true);
  });
});

