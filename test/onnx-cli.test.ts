// `lengthwise generate` and examples/generate.js through the built package (dist/): llama-tokenizer-js is an ES
// module that jest's VM cannot load, so these run in a child Node process (skipped when dist/ is not built).
import './onnx-jest-realm';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { speculative } from '../lib';
import { loadModel } from '../lib/onnx';
import { plainGreedy } from './speculative-fake-model';

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const built = existsSync(cli) && existsSync(join(root, 'dist', 'onnx', 'index.js'));
const committed = existsSync(join(root, 'models', 'target.onnx'));
const dir = committed ? join(root, 'models') : '/work/wt/models-dev';
const run = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', cwd: root, timeout: 100000 });

(built ? describe : describe.skip)('built CLI and example', () => {
  test('generate --json: tokens == plain greedy target decoding, same with --no-draft, stats present', async () => {
    const args = [cli, 'generate', '--target', join(dir, 'target.onnx'), '--draft', join(dir, 'draft.onnx'), '--prompt', 'And God said,', '--max-tokens', '10', '--threads', '1', '--json'];
    const r = run([...args, '--tree', 'static']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { promptTokens: number[]; tokens: number[]; text: string; stats: Record<string, number> };
    expect(out.promptTokens[0]).toBe(1); // BOS
    const target = await loadModel(join(dir, 'target.onnx'), { threads: 1 });
    const ref = await plainGreedy(target, out.promptTokens, 10);
    const eos = target.eosId;
    const expected = eos !== undefined && ref.tokens.includes(eos) ? ref.tokens.slice(0, ref.tokens.indexOf(eos) + 1) : ref.tokens;
    expect(out.tokens).toEqual(expected);
    expect(typeof out.text).toBe('string');
    for (const k of ['targetForwards', 'acceptedPerForward', 'tokensPerSecond', 'targetMs', 'draftMs', 'lengthwiseMs']) expect(typeof out.stats[k]).toBe('number');
    const plain = JSON.parse(run([...args, '--no-draft']).stdout) as { tokens: number[]; stats: { targetForwards: number } };
    expect(plain.tokens).toEqual(out.tokens);
    expect(plain.stats.targetForwards).toBe(out.tokens.length);
    // The library in-process gives the same tokens.
    const dec = speculative.createDecoder({ target, tree: { kind: 'none' } });
    expect((await dec.generate([out.promptTokens], { maxTokens: 10, temperature: 0 })).tokens[0]).toEqual(out.tokens);
  });
  test('usage errors exit 2 naming the option', () => {
    const r = run([cli, 'generate', '--target', join(dir, 'target.onnx'), '--draft', join(dir, 'draft.onnx'), '--prompt', 'x', '--tree', 'bushy']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--tree must be chain:K, static or dynamic:BUDGET/);
    expect(run([cli, 'generate', '--prompt', 'x', '--max-tokens', '0', '--target', join(dir, 'target.onnx'), '--no-draft']).stderr).toMatch(/--max-tokens must be an integer >= 1/);
    expect(run([cli, 'generate']).stderr).toMatch(/--prompt TEXT is required/);
  });
  (committed ? test : test.skip)('in a checkout, --target/--draft default to models/', () => {
    const r = run([cli, 'generate', '--prompt', 'And God said,', '--max-tokens', '4', '--threads', '1', '--json']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { tokens: number[] }).tokens.length).toBeGreaterThan(0);
  });
  test('missing optional peers give an install hint, and only when used', () => {
    // The built onnx/ module outside any node_modules tree: neither peer can be resolved there.
    const tmp = mkdtempSync(join(tmpdir(), 'lw-peer-'));
    cpSync(join(root, 'dist'), join(tmp, 'dist'), { recursive: true });
    const code = `const o = require(${JSON.stringify(join(tmp, 'dist', 'onnx'))}); console.log('loaded');
      for (const f of [() => o.loadModel(${JSON.stringify(join(dir, 'target.onnx'))}), () => o.loadLlamaTokenizer()]) {
        try { const p = f(); if (p && p.catch) p.catch((e) => console.log(e.message)); } catch (e) { console.log(e.message); } }`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', cwd: tmp });
    expect(r.stdout).toMatch(/^loaded/); // importing lengthwise/onnx alone does not need the peers
    expect(r.stdout).toMatch(/needs the optional peer dependency 'onnxruntime-node'.*npm install onnxruntime-node --onnxruntime-node-install=skip/);
    expect(r.stdout).toMatch(/needs the optional peer dependency 'llama-tokenizer-js'/);
  });
  test('examples/generate.js runs (require("lengthwise") and "lengthwise/onnx" through the exports map)', () => {
    const r = run([join(root, 'examples', 'generate.js'), dir, 'And God said,']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/24 tokens in \d+ target forwards/);
  });
});
