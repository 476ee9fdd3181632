/**
 * Environment settings, each in a fresh process: LENGTHWISE_BACKEND=cuda without a usable GPU gives one clear
 * error (and `auto` falls back to the CPU); a bad LENGTHWISE_BACKEND value is a RangeError naming the variable.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as lw from '../../lib';

const ROOT = path.join(__dirname, '..', '..');
const hasGpu = lw.backendInfo().devices.length > 0;

function inChild(env: Record<string, string>, code: string): { out: string; err: string; status: number | null } {
  const script = `
    require('typescript'); const fs = require('fs'), ts = require('typescript');
    require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'),
      { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, f);
    const lw = require(${JSON.stringify(path.join(ROOT, 'lib', 'index.ts'))});
    const show = (e) => console.log(JSON.stringify({ name: e.name, message: e.message }));
    (async () => { ${code} })().catch(show);`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });
  return { out: r.stdout.trim(), err: r.stderr.trim(), status: r.status };
}

const call = `await lw.logitStats({ data: new Float32Array([1, 2]), rows: 1, vocab: 2 }); console.log(JSON.stringify({ ok: true }));`;

(hasGpu ? test.skip : test)('LENGTHWISE_BACKEND=cuda without a GPU: a clear error saying why and how to fix it', () => {
  const r = inChild({ LENGTHWISE_BACKEND: 'cuda' }, call);
  expect(r.status).toBe(0);
  const e = JSON.parse(r.out) as { name: string; message: string };
  expect(e.name).toBe('Error');
  expect(e.message).toMatch(/backend 'cuda' was requested but/);
  expect(e.message).toMatch(/no device|no NVIDIA driver|no CUDA addon|npm run build:cuda/);
  // backendInfo() does not throw: it reports the requested backend and why CUDA cannot run it.
  const info = inChild({ LENGTHWISE_BACKEND: 'cuda' }, `console.log(JSON.stringify(lw.backendInfo()));`);
  expect(JSON.parse(info.out)).toMatchObject({ backend: 'cuda', devices: [], cudaUnavailable: expect.stringMatching(/no device|no NVIDIA driver|no CUDA addon|build:cuda/) });
  // ...and so does `lengthwise info`, exiting 0.
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'info'],
    { env: { ...process.env, LENGTHWISE_BACKEND: 'cuda' }, encoding: 'utf8', timeout: 60000 });
  expect(cli.status).toBe(0);
  expect(cli.stdout).toMatch(/backend: +cuda \(requested, but unavailable\)/);
  expect(cli.stdout).toMatch(/cuda: +unavailable \(/);
});

test('LENGTHWISE_BACKEND=auto (and unset) falls back to the CPU without a GPU', () => {
  for (const v of ['auto', '']) {
    const r = inChild({ LENGTHWISE_BACKEND: v }, `${call.replace('{ ok: true }', '{ ok: true, backend: lw.backendInfo().backend }')}`);
    expect(JSON.parse(r.out)).toEqual({ ok: true, backend: hasGpu ? 'cuda' : 'cpu' });
  }
});

test('a bad LENGTHWISE_BACKEND is a RangeError naming the variable', () => {
  const r = inChild({ LENGTHWISE_BACKEND: 'tpu' }, call);
  expect(JSON.parse(r.out)).toEqual({ name: 'RangeError', message: expect.stringMatching(/LENGTHWISE_BACKEND must be 'cpu', 'cuda' or 'auto' \(got "tpu"\)/) });
});

test("a per-call backend: 'cuda' without a GPU rejects with the same clear error", async () => {
  if (hasGpu) return;
  await expect(lw.logitStats({ data: new Float32Array([1, 2]), rows: 1, vocab: 2 }, { backend: 'cuda' })).rejects.toThrow(/backend 'cuda' was requested but/);
});
