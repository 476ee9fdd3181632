// The committed model pair (models/, issue 13): each sidecar describes its .onnx (sha256, size) and both
// models agree on what speculative decoding needs (tokenizer, vocab, window, special ids).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '..', 'models');
const sidecar = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Record<string, unknown>;

describe('committed models', () => {
  for (const name of ['target', 'draft']) {
    test(`${name}.onnx matches the sha256 and size in ${name}.json`, () => {
      const meta = sidecar(name);
      const bytes = readFileSync(join(dir, String(meta.onnx)));
      expect(bytes.length).toBe(meta.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(meta.sha256);
    });

    test(`${name}.json has a consistent Llama shape`, () => {
      const m = sidecar(name);
      expect(m.format).toBe('lengthwise-model-v1');
      expect(m.headDim).toBe((m.dModel as number) / (m.heads as number));
      expect(m.kvHeads).toBe(m.heads);
      expect(m.logitsDtype).toBe('float32');
      expect(m.kvDtype).toBe('float32');
    });
  }

  test('draft and target share tokenizer, vocab, window and special ids, and the draft is much narrower', () => {
    const t = sidecar('target'), d = sidecar('draft');
    for (const k of ['tokenizer', 'vocab', 'window', 'bosId', 'eosId', 'padId']) expect(d[k]).toBe(t[k]);
    expect(t.vocab).toBe(32000);
    expect((d.dModel as number) * 2).toBeLessThan(t.dModel as number);
  });

  test('the pair fits the 40 MB budget', () => {
    expect((sidecar('target').bytes as number) + (sidecar('draft').bytes as number)).toBeLessThanOrEqual(40e6);
  });
});
