// Peak memory of `lengthwise xl3m` on a large .npy: the file streams through createScorer in chunks, so the peak RSS
// should not grow with the file. Writes a float32 (S, P, V) .npy of about --gb GB (default 4) in the temp folder
// (fewer GB when the disk has less than twice that free, stated), runs the built CLI (dist/cli.js) on it in a child
// whose peak RSS (VmHWM) is reported on exit, and deletes the file. Same-run baseline: the CLI of another build
// (--baseline DIR/dist/cli.js, e.g. a main checkout from before the streaming reader) on a smaller file (--baseline-gb,
// default 1; the old reader could not read more than 2 GiB at all).
//   node bench/run.js bench/xl3m-stream.ts [--gb 4] [--vocab 128256] [--baseline /work/main/dist/cli.js] [--baseline-gb 1]
// Writes bench/results/xl3m-stream.{json,md}.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lcg, uniformLogits } from '../lib/runtime/prng';
import { arg } from './common';

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const PRELOAD = path.join(__dirname, 'helpers', 'report-rss.js');

/** Writes a float32 .npy of shape (S, P, V) from a repeated 16 MB block of uniform logits. */
function writeNpy(file: string, S: number, P: number, V: number): number {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${S}, ${P}, ${V}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.writeUInt8(0x93, 0);
  h.write('NUMPY', 1, 'latin1');
  h.writeUInt8(1, 6);
  h.writeUInt16LE(header.length, 8);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, Buffer.concat([h, Buffer.from(header, 'latin1')]));
    const rowsPerBlock = Math.max(1, Math.floor((16 << 20) / (4 * V)));
    const block = Buffer.from(uniformLogits(rowsPerBlock * V, lcg(12345)).buffer);
    let rows = S * P;
    while (rows > 0) {
      const n = Math.min(rows, rowsPerBlock);
      fs.writeSync(fd, block, 0, n * 4 * V);
      rows -= n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return fs.statSync(file).size;
}

interface Run {
  cli: string;
  bytes: number;
  shape: [number, number, number];
  seconds: number;
  peakRssMB: number;
  status: number | null;
  scores?: number[];
  stderrTail: string;
}

function runCli(cli: string, file: string, shape: [number, number, number]): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', PRELOAD, cli, 'xl3m', '--logits', file, '--backend', 'cpu', '--json'], {
    encoding: 'utf8', maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const kb = Number(/LENGTHWISE_PEAK_RSS_KB (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  let scores: number[] | undefined;
  try {
    scores = (JSON.parse(r.stdout) as { scores: number[] }).scores;
  } catch {
    scores = undefined;
  }
  return {
    cli, bytes: fs.statSync(file).size, shape, seconds, peakRssMB: kb / 1024, status: r.status, scores,
    stderrTail: r.stderr.split('\n').filter((l) => l && !l.startsWith('LENGTHWISE_PEAK')).slice(-2).join(' | '),
  };
}

function shapeFor(gb: number, V: number): [number, number, number] {
  const rows = Math.max(64, Math.round((gb * 1e9) / (4 * V) / 64) * 64);
  return [64, rows / 64, V];
}

function main(): void {
  if (!fs.existsSync(CLI)) throw new Error('build first: npx tsc -p tsconfig.json (dist/cli.js)');
  const V = arg('vocab', 128256);
  let gb = arg('gb', 4);
  const baseGb = arg('baseline-gb', 1);
  const bi = process.argv.indexOf('--baseline');
  const baseline = bi >= 0 ? process.argv[bi + 1] : undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-xl3m-stream-'));
  const st = fs.statfsSync(tmp);
  const freeGB = (st.bavail * st.bsize) / 1e9;
  let note = `free in ${os.tmpdir()}: ${freeGB.toFixed(1)} GB`;
  if (freeGB < 2 * gb + 1) {
    const fit = Math.max(0.25, Math.floor((freeGB - 1) / 2));
    note += `; less than 2 × ${gb} GB + 1 free, so ${fit} GB is used instead of ${gb}`;
    gb = fit;
  }
  console.log(`${note}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
  const runs: Run[] = [];
  try {
    const big = path.join(tmp, 'big.npy');
    const shape = shapeFor(gb, V);
    const t0 = Date.now();
    const bytes = writeNpy(big, ...shape);
    console.log(`wrote ${(bytes / 1e9).toFixed(2)} GB (${shape.join(' × ')} float32) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    runs.push(runCli(CLI, big, shape));
    fs.rmSync(big);
    const small = path.join(tmp, 'small.npy');
    const sshape = shapeFor(baseGb, V);
    writeNpy(small, ...sshape);
    runs.push(runCli(CLI, small, sshape));
    if (baseline) runs.push(runCli(baseline, small, sshape));
    fs.rmSync(small);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  for (const r of runs) {
    console.log(`${path.relative(ROOT, r.cli) || r.cli}: ${(r.bytes / 1e9).toFixed(2)} GB, peak RSS ${r.peakRssMB.toFixed(0)} MB, ` +
      `${r.seconds.toFixed(1)} s (${(r.bytes / 1e9 / r.seconds).toFixed(2)} GB/s), exit ${r.status}${r.stderrTail ? `, stderr: ${r.stderrTail}` : ''}`);
  }
  const same = runs.length > 2 && runs[1]!.scores && runs[2]!.scores ? JSON.stringify(runs[1]!.scores) === JSON.stringify(runs[2]!.scores) : undefined;
  if (same !== undefined) console.log(`scores identical to the baseline on the small file: ${same}`);
  const out = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const rows = runs.map(({ scores: _s, ...r }) => r);
  fs.writeFileSync(path.join(out, 'xl3m-stream.json'), JSON.stringify({ date: new Date().toISOString(), note, loadavg: os.loadavg(), cores: os.cpus().length, runs: rows, sameScores: same }, null, 2) + '\n');
  const md = [
    '# xl3m streaming: peak RSS of `lengthwise xl3m` on large .npy files',
    '',
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}. ${note}.`,
    'Peak RSS = VmHWM of the CLI process (node included). CPU backend.' +
      (baseline ? ` Baseline: ${baseline} (another build's CLI, run on the same small file in this run).` : ''),
    '',
    '| CLI | file | shape (S × P × V) | peak RSS | time | throughput | exit |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.cli === CLI ? 'this build' : 'baseline'} | ${(r.bytes / 1e9).toFixed(2)} GB | ${r.shape.join(' × ')} | ${r.peakRssMB.toFixed(0)} MB | ${r.seconds.toFixed(1)} s | ${(r.bytes / 1e9 / r.seconds).toFixed(2)} GB/s | ${r.status} |`),
    '',
    same === undefined ? '' : `Scores on the small file identical to the baseline's: ${same}.`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(out, 'xl3m-stream.md'), md);
}

main();
