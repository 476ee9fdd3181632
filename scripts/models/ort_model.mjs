// ONNX Runtime (CPU) calls with the model interface of models/README.md, for the model scripts.
import fs from 'node:fs';
import path from 'node:path';
import { load } from './deps.mjs';

export const ort = load('onnxruntime-node');
export const MASK = -1e9;

export function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

export async function open(dir, name) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, meta.onnx), {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  return { meta, session };
}

export function emptyPast(meta, b) {
  const past = [];
  for (let i = 0; i < meta.layers; i++) {
    past.push({ key: new ort.Tensor('float32', new Float32Array(0), [b, meta.kvHeads, 0, meta.headDim]),
      value: new ort.Tensor('float32', new Float32Array(0), [b, meta.kvHeads, 0, meta.headDim]) });
  }
  return past;
}

// bias[s][j] for one batch row, replicated over B.
export async function forward(m, ids, pos, biasRows, past) {
  const b = ids.length, s = ids[0].length, t = biasRows[0].length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flat().map(BigInt)), [b, s]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(pos.flat().map(BigInt)), [b, s]),
    attention_bias: new ort.Tensor('float32', Float32Array.from(Array(b).fill(biasRows.flat()).flat()), [b, 1, s, t]),
  };
  past.forEach((kv, i) => { feeds[`past_key_values.${i}.key`] = kv.key; feeds[`past_key_values.${i}.value`] = kv.value; });
  const out = await m.session.run(feeds);
  const present = past.map((_, i) => ({ key: out[`present.${i}.key`], value: out[`present.${i}.value`] }));
  return { logits: out.logits, present };
}

export function causalRows(p, s) {
  return Array.from({ length: s }, (_, r) => Array.from({ length: p + s }, (_, j) => (j <= p + r ? 0 : MASK)));
}

export const row = (logits, b, s) => {
  const [, S, V] = logits.dims;
  return logits.data.subarray((b * S + s) * V, (b * S + s + 1) * V);
};
export const argmax = (a) => a.reduce((bi, x, i) => (x > a[bi] ? i : bi), 0);
