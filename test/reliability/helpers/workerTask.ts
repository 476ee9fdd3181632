/**
 * Runs inside a worker_thread: loads lengthwise, computes the mixed workload and posts the outcomes back; on
 * { mode: 'hold' } starts heavy calls and never awaits them (the parent terminates the worker mid-call).
 */
import { parentPort, workerData } from 'worker_threads';
import * as lw from '../../../lib';
import { bigLogits } from './heavy';
import { mixedCalls, outcome } from './workload';

async function main(): Promise<void> {
  const d = workerData as { mode: 'compute' | 'hold'; calls: number; seed: number };
  if (d.mode === 'hold') {
    // Terminating the worker waits for queued native work to finish (no cancel on teardown): keep it modest.
    const logits = bigLogits(128, 32000, 5);
    for (let i = 0; i < 2; i++) void lw.logitStats(logits).catch(() => undefined);
    void lw.scaling.fit(lw.scaling.chinchillaRuns(), { bootstrap: { resamples: 10, seed: 1 } }).catch(() => undefined);
    parentPort!.postMessage({ started: true, threads: lw.backendInfo().threads });
    return;
  }
  const outcomes = await Promise.all(mixedCalls(d.calls, d.seed).map((c) => outcome(c)));
  parentPort!.postMessage({ outcomes, info: lw.backendInfo() });
}

void main();
