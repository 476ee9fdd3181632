// logitStats: CUDA vs CPU (argmax/targetRank equal, floats within 1e-5 relative, absolute below 1 nat), host and
// device-resident inputs, every dtype; skips cleanly without the CUDA addon or a GPU. On the GPU machine (no jest
// there) test/gpu/logitstats.js runs the same comparison plus timings.
import { logitStats } from '../lib/logitStats';
import { upload } from '../lib/device';
import { randomLogits, type RefDType } from './helpers/logits';
import { rng } from './helpers/rng';
import { describeGpu } from './helpers/gpu';


describeGpu('logitStats on CUDA', () => {
  const shapes: [number, number][] = [[1, 1], [3, 7], [513, 7], [7, 32000], [65, 128256], [2, 151936]];
  for (const dtype of ['float32', 'float16', 'bfloat16'] as RefDType[]) {
    test.each(shapes)(`${dtype} %i × %i: cuda (host and device input) matches cpu`, async (rows, vocab) => {
      const r = rng(rows * 7 + vocab);
      const data = randomLogits(r, rows, vocab, dtype);
      const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * vocab));
      const logits = { data, dtype, rows, vocab };
      const cpu = await logitStats(logits, { targets, backend: 'cpu', temperature: 0.9 });
      const tensor = await upload(data);
      try {
        for (const input of [data, tensor]) {
          const got = await logitStats({ ...logits, data: input }, { targets, backend: 'cuda', temperature: 0.9 });
          expect(Array.from(got.argmax)).toEqual(Array.from(cpu.argmax));
          expect(Array.from(got.targetRank!)).toEqual(Array.from(cpu.targetRank!));
          for (const k of ['logsumexp', 'entropy', 'nll'] as const) {
            const a = got[k]!, b = cpu[k]!;
            for (let i = 0; i < rows; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b[i]!)));
          }
          for (let i = 0; i < rows; i++) expect(Math.abs(got.maxProb[i]! - cpu.maxProb[i]!)).toBeLessThanOrEqual(1e-5 * cpu.maxProb[i]!);
        }
      } finally {
        tensor.dispose();
      }
    });
  }
});
