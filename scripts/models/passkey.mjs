// Greedy passkey retrieval through ONNX Runtime with the KV cache (prompt forward, then one token at a time).
//   node passkey.mjs MODEL_DIR DATA_DIR [--model target] [--n 100] [--json OUT.json]
// Uses tokenize.mjs's validation passkey documents (held-out KJV filler or the classic filler, ~1x window),
// with a fresh random key per document. Correct = the 6 generated tokens are exactly "▁" + the 5 key digits.
import fs from 'node:fs';
import path from 'node:path';
import { rng, open, emptyPast, forward, causalRows, row, argmax } from './ort_model.mjs';

const [dir, dataDir] = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const name = opt('model', 'target'), n = Number(opt('n', 100)), jsonOut = opt('json', null);
const meta = JSON.parse(fs.readFileSync(path.join(dataDir, 'meta.json'), 'utf8'));
const buf = fs.readFileSync(path.join(dataDir, 'passkey_val.u16'));
const all = new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2);
const m = await open(dir, name);
const r = rng(2024);
const results = [];
const t0 = Date.now();
for (const doc of meta.passkey_val.slice(0, n)) {
  const ids = Array.from(all.subarray(doc.offset, doc.offset + doc.length));
  const key = [1 + Math.floor(r() * 9), ...Array.from({ length: 4 }, () => Math.floor(r() * 10))];
  for (const g of doc.groups) key.forEach((d, j) => { ids[g + j] = meta.digitIds[d]; });
  const ans = doc.groups[doc.groups.length - 1];
  const prompt = ids.slice(0, ans - 1);
  const expected = ids.slice(ans - 1, ans + 5);
  let out = await forward(m, [prompt], [prompt.map((_, i) => i)], causalRows(0, prompt.length), emptyPast(m.meta, 1));
  let next = argmax(row(out.logits, 0, prompt.length - 1));
  const got = [next];
  for (let p = prompt.length; got.length < expected.length; p++) {
    out = await forward(m, [[next]], [[p]], causalRows(p, 1), out.present);
    next = argmax(row(out.logits, 0, 0));
    got.push(next);
  }
  results.push({ ok: got.every((t, i) => t === expected[i]), depth: doc.depth, kjvFiller: doc.kjvFiller, length: prompt.length });
}
const acc = (xs) => (xs.length ? xs.filter((x) => x.ok).length / xs.length : null);
const byDepth = {};
for (const x of results) (byDepth[Math.min(4, Math.floor(x.depth * 5))] ??= []).push(x);
const report = {
  model: name, docs: results.length, meanPromptTokens: results.reduce((s, x) => s + x.length, 0) / results.length,
  window: m.meta.window, accuracy: acc(results),
  accuracyByDepthFifth: Object.fromEntries(Object.entries(byDepth).map(([k, v]) => [k, acc(v)])),
  accuracyClassicFiller: acc(results.filter((x) => !x.kjvFiller)), accuracyKjvFiller: acc(results.filter((x) => x.kjvFiller)),
  seconds: (Date.now() - t0) / 1000,
};
console.log(JSON.stringify(report, null, 1));
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(report, null, 1));
