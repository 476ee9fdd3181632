/**
 * worker_threads: several workers at once call the library (each loads the addon in its own environment) and
 * get the main thread's results; workers terminated mid-call end cleanly; a process that used workers exits.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { mixedCalls, outcome } from './helpers/workload';

const BOOT = path.join(__dirname, 'helpers', 'tsWorker.js');
const TASK = path.join(__dirname, 'helpers', 'workerTask.ts');

function worker(data: object): { w: Worker; first: Promise<Record<string, unknown>> } {
  const w = new Worker(BOOT, { workerData: { script: TASK, ...data } });
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  });
  return { w, first };
}

test('three workers at once compute the same results as the main thread', async () => {
  const calls = 120;
  const main = await Promise.all(mixedCalls(calls, 21).map((c) => outcome(c)));
  const ws = [0, 1, 2].map(() => worker({ mode: 'compute', calls, seed: 21 }));
  const answers = await Promise.all(ws.map((x) => x.first));
  for (const a of answers) expect(a.outcomes).toEqual(main);
  const codes = await Promise.all(ws.map((x) => x.w.terminate()));
  expect(codes.every((c) => c === undefined || c === 0 || c === 1)).toBe(true); // undefined: it had already exited
});

test('workers terminated while native calls are in flight end cleanly, repeatedly', async () => {
  for (let round = 0; round < 3; round++) {
    const ws = [0, 1].map(() => worker({ mode: 'hold' }));
    await Promise.all(ws.map((x) => x.first));
    await Promise.all(ws.map((x) => x.w.terminate()));
  }
  // The main thread's library still works afterwards.
  const again = await Promise.all(mixedCalls(20, 3).map((c) => outcome(c)));
  expect(again.filter((o) => o.startsWith('error ') && !/RangeError/.test(o))).toEqual([]);
});

test('a process that used the library in workers (and terminated some mid-call) exits by itself', () => {
  const script = `
    const { Worker } = require('worker_threads');
    const boot = ${JSON.stringify(BOOT)}, task = ${JSON.stringify(TASK)};
    const run = (mode) => new Promise((res, rej) => {
      const w = new Worker(boot, { workerData: { script: task, mode, calls: 30, seed: 4 } });
      w.once('message', (m) => res({ w, m })); w.once('error', rej);
    });
    (async () => {
      const a = await run('compute'); await a.w.terminate();
      const b = await run('hold'); await b.w.terminate();
      const c = await run('compute');            // left to finish and exit on its own
      console.log('ok', a.m.outcomes.length, c.m.outcomes.length);
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe('ok 30 30');
});

// Node unloads an addon when the last environment that loaded it ends; the native pool's threads would then run
// unmapped code (a SIGSEGV at some later wake-up or at exit, seen under load). The addon pins itself instead.
const linuxOnly = fs.existsSync('/proc/self/maps') ? test : test.skip;
linuxOnly('the addon stays mapped after the only worker that loaded it has ended', () => {
  const script = `
    const fs = require('fs');
    const { Worker } = require('worker_threads');
    const boot = ${JSON.stringify(BOOT)}, task = ${JSON.stringify(TASK)};
    const mapped = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .filter((l) => /lengthwise(_cuda)?\\.node$/.test(l)).map((l) => l.split(/\\s+/).pop());
    const w = new Worker(boot, { workerData: { script: task, mode: 'compute', calls: 10, seed: 2 } });
    let cudaLoaded = false;
    w.once('message', (m) => { cudaLoaded = !/^no CUDA addon/.test(m.info.cudaUnavailable || ''); w.terminate(); });
    w.once('exit', () => {
      const names = [...new Set(mapped().map((f) => f.split('/').pop()))].sort();
      console.log(JSON.stringify({ names, cudaLoaded }));
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const { names, cudaLoaded } = JSON.parse(r.stdout) as { names: string[]; cudaLoaded: boolean };
  expect(names).toContain('lengthwise.node');
  if (cudaLoaded) expect(names).toContain('lengthwise_cuda.node');
});
