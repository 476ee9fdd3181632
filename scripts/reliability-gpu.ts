/**
 * GPU reliability checks (run by test/gpu/reliability.sh, compiled to JavaScript; needs a CUDA device):
 * 1. device out-of-memory rejects with a clear error (code ERR_LENGTHWISE_DEVICE) and leaves the library usable;
 * 2. DeviceTensors dropped without dispose() are reclaimed by the GC in time (external-memory pressure);
 * 3. CUDA and CPU agree on integer outputs; CUDA results are identical across runs and under concurrency;
 * 4. event-loop delay and sync part of CUDA calls; abort latency of a long CUDA call.
 * Prints one line per check ("ok" / "FAIL") and exits non-zero on a failure.
 */
import { execFileSync } from 'child_process';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import * as lw from '../lib';
import { bigLogits } from '../test/reliability/helpers/heavy';
import { mixedCalls, outcome } from '../test/reliability/helpers/workload';

let failed = 0;
function report(ok: boolean, what: string): void {
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

function gpuUsedMiB(): number {
  try {
    return Number(execFileSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8' }).trim().split('\n')[0]);
  } catch {
    return NaN;
  }
}

async function outOfMemory(): Promise<void> {
  const chunk = new Float32Array(2 ** 30); // 4 GiB of host memory, uploaded again and again
  const held: lw.DeviceTensor[] = [];
  const before = gpuUsedMiB();
  let error: (Error & { code?: string }) | undefined;
  for (let i = 0; i < 64 && !error; i++) {
    try {
      held.push(await lw.device.upload(chunk));
    } catch (e) {
      error = e as Error & { code?: string };
    }
  }
  const peak = gpuUsedMiB();
  for (const t of held) t.dispose();
  await new Promise((r) => setTimeout(r, 200));
  const after = gpuUsedMiB();
  report(error !== undefined && error.code === 'ERR_LENGTHWISE_DEVICE' && /memory/i.test(error.message),
    `device OOM after ${held.length} × 4 GiB rejects clearly: ${error ? `${error.name} ${error.code}: ${error.message}` : 'no error'}`);
  report(after - before < 1024, `memory returned after dispose: used ${before} → peak ${peak} → ${after} MiB`);
  const l = bigLogits(64, 32000);
  const t = await lw.device.upload(l.data);
  const [cpu, gpu] = await Promise.all([lw.logitStats(l, { backend: 'cpu' }), lw.logitStats({ data: t, rows: 64, vocab: 32000 })]);
  t.dispose();
  report(cpu.argmax.every((x, i) => x === gpu.argmax[i]), 'library usable after OOM (device logitStats argmax = CPU)');
}

async function droppedTensors(): Promise<void> {
  const data = new Float32Array(2 ** 28); // 1 GiB each; 250 of them are 250 GiB, far more than the device holds
  const before = gpuUsedMiB();
  let made = 0;
  let error: unknown;
  const t0 = performance.now();
  for (let i = 0; i < 250; i++) {
    try {
      await lw.device.upload(data); // dropped at once: only the finalizer can free it
      made++;
    } catch (e) {
      error = e;
      break;
    }
  }
  const after = gpuUsedMiB();
  report(error === undefined, `250 × 1 GiB DeviceTensors dropped without dispose(): ${made} made in ${((performance.now() - t0) / 1000).toFixed(1)} s, GPU used ${before} → ${after} MiB${error ? `; failed: ${(error as Error).message}` : ''}`);
}

function canonInts(r: lw.VerifyTreeResult): string {
  return `${Array.from(r.acceptedLength).join()}|${Array.from(r.tokens).join()}`;
}

async function agreement(): Promise<void> {
  const calls = mixedCalls(400, 5);
  const a = await Promise.all(calls.map((c) => outcome(c)));
  const seq: string[] = [];
  for (const c of calls) seq.push(await outcome(c));
  report(a.every((x, i) => x === seq[i]), 'CUDA: 400 mixed calls in flight = the same calls one at a time');
  const V = 32000;
  const l = bigLogits(1024, V, 9);
  const trees = { tokens: new Int32Array(1024), parents: new Int32Array(1024), offsets: new Int32Array(65) };
  for (let b = 0; b < 64; b++) {
    trees.offsets[b + 1] = (b + 1) * 16;
    for (let i = 0; i < 16; i++) {
      trees.parents[b * 16 + i] = i - 1;
      trees.tokens[b * 16 + i] = (b * 131 + i * 17) % V;
    }
  }
  const cpu = await lw.logitStats(l, { backend: 'cpu' });
  for (let n = 1; n < 1024; n++) if (n % 16 !== 0 && n % 3 !== 0) trees.tokens[n] = cpu.argmax[n - 1]!; // mostly accepted chains
  const g1 = await lw.verifyTree(trees, l, { mode: 'greedy', seed: 1, backend: 'cuda' });
  const g2 = await lw.verifyTree(trees, l, { mode: 'greedy', seed: 1, backend: 'cpu' });
  report(canonInts(g1) === canonInts(g2), 'verifyTree greedy: CUDA = CPU');
  const s1 = await lw.verifyTree(trees, l, { mode: 'sample', seed: 77n, temperature: 0.8, topP: 0.9, backend: 'cuda' });
  const s2 = await lw.verifyTree(trees, l, { mode: 'sample', seed: 77n, temperature: 0.8, topP: 0.9, backend: 'cuda' });
  const s3 = await lw.verifyTree(trees, l, { mode: 'sample', seed: 77n, temperature: 0.8, topP: 0.9, backend: 'cpu' });
  report(canonInts(s1) === canonInts(s2), 'verifyTree sample: CUDA identical across runs');
  const diff = s1.tokens.reduce((m, x, i) => m + (x !== s3.tokens[i] ? 1 : 0), 0);
  report(diff <= 2, `verifyTree sample: CUDA vs CPU tokens differ in ${diff} places (only at float-rounding ties)`);
  const gs = await lw.logitStats(l, { backend: 'cuda' });
  report(gs.argmax.every((x, i) => x === cpu.argmax[i]), 'logitStats argmax: CUDA = CPU');
}

async function loopAndAbort(): Promise<void> {
  const l = bigLogits(4096, 32000, 4); // 524 MB
  const h = monitorEventLoopDelay({ resolution: 1 });
  await lw.logitStats(l, { backend: 'cuda' });
  h.enable();
  const sync: number[] = [];
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    pending.push(lw.logitStats(l, { backend: 'cuda' }));
    sync.push(performance.now() - s);
  }
  await Promise.all(pending);
  h.disable();
  sync.sort((a, b) => a - b);
  report(h.percentile(99) / 1e6 < 20, `event loop during 20 CUDA logitStats (host data, 524 MB each): p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, max ${(h.max / 1e6).toFixed(2)} ms; sync part median ${(sync[10]! * 1000).toFixed(0)} µs`);
  const c = new AbortController();
  const p = lw.scaling.fit(lw.scaling.chinchillaRuns(), { backend: 'cuda', bootstrap: { resamples: 4000, seed: 1, gridPerResample: true }, signal: c.signal });
  await new Promise((r) => setTimeout(r, 300));
  const t = performance.now();
  c.abort();
  const e = await p.then(() => undefined, (err: Error) => err);
  const ms = performance.now() - t;
  report(e?.name === 'AbortError' && ms < 500, `CUDA bootstrap (4000 × grid) aborted: ${e?.name ?? 'completed'} after ${ms.toFixed(1)} ms`);
}

async function main(): Promise<void> {
  const info = lw.backendInfo();
  console.log(`backend ${info.backend}; devices: ${info.devices.map((d) => `${d.name} (${(d.memoryBytes / 2 ** 30).toFixed(0)} GiB)`).join(', ') || 'none'}`);
  if (info.devices.length === 0) {
    console.log('reliability-gpu: no CUDA device, skipped');
    return;
  }
  for (const step of [agreement, loopAndAbort, droppedTensors, outOfMemory]) {
    try {
      await step();
    } catch (e) {
      report(false, `${step.name} threw ${(e as Error).stack ?? String(e)}`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
