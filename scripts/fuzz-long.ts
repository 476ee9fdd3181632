/**
 * The long boundary fuzz: `node bench/run.js scripts/fuzz-long.ts --calls 100000 [--seed 1] [--jobs 2]`.
 *
 * The cases run in child processes (one per job, disjoint case ranges) so a native crash is seen and counted:
 * a child that dies (signal or non-zero exit) is restarted after the case it was running, which is recorded;
 * a child that makes no progress for 60 s counts as a hang. Writes bench/results/fuzz-long.json.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { caseAt, newTally, record, runCase, Tally } from '../test/reliability/helpers/fuzz';
import { TARGETS } from '../test/reliability/helpers/surface';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function child(): Promise<void> {
  const from = arg('from', 0);
  const to = arg('to', 0);
  const seed = arg('seed', 1);
  const progressFile = process.argv[process.argv.indexOf('--progress') + 1]!;
  const skipAt = process.argv.indexOf('--skip');
  const skip = new Set(skipAt >= 0 ? process.argv[skipAt + 1]!.split(',').map(Number) : []);
  const fd = fs.openSync(progressFile, 'w');
  let tally = newTally();
  const perTarget: Record<string, number> = {};
  const flush = (next: number) => {
    process.stdout.write(JSON.stringify({ next, tally, perTarget }) + '\n');
    tally = newTally();
    for (const k of Object.keys(perTarget)) delete perTarget[k];
  };
  for (let i = from; i < to; i++) {
    if (skip.has(i)) continue;
    fs.writeSync(fd, `${i}\n`, 0);
    if (process.env.LW_FUZZ_SELFTEST_CRASH === String(i)) process.abort(); // checks that crashes are caught and counted
    const c = caseAt(i, seed);
    record(tally, await runCase(c));
    const name = TARGETS[c.target]!.name;
    perTarget[name] = (perTarget[name] ?? 0) + 1;
    if ((i + 1 - from) % 250 === 0) flush(i + 1);
  }
  flush(to);
  fs.closeSync(fd);
}

interface Crash {
  index: number;
  case: string;
  how: string;
}

function runRange(from: number, to: number, seed: number, total: Tally, perTarget: Record<string, number>, crashes: Crash[], onProgress: () => void): Promise<void> {
  return new Promise((resolve) => {
    const progress = path.join(os.tmpdir(), `lw-fuzz-${process.pid}-${from}.txt`);
    let next = from;
    const skip: number[] = [];
    const start = (at: number) => {
      // From the sources (bench/run.js compiles TypeScript) or as compiled JavaScript (GPU machine, no TypeScript).
      const entry = __filename.endsWith('.ts') ? [path.join(__dirname, '..', 'bench', 'run.js'), __filename] : [__filename];
      const argv = [...entry, '--child', '--from', String(at), '--to', String(to), '--seed', String(seed), '--progress', progress];
      if (skip.length > 0) argv.push('--skip', skip.join(','));
      const p = spawn(process.execPath, argv, {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let buf = '';
      let stderr = '';
      let lastIndex = '';
      let still = 0;
      const watchdog = setInterval(() => {
        const now = fs.existsSync(progress) ? fs.readFileSync(progress, 'utf8') : '';
        if (now === lastIndex) still++;
        else still = 0;
        lastIndex = now;
        if (still >= 12) p.kill('SIGKILL'); // 60 s without a new case: a hang
      }, 5000);
      p.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = JSON.parse(line) as { next: number; tally: Tally; perTarget: Record<string, number> };
          next = m.next;
          total.calls += m.tally.calls;
          for (const [k, v] of Object.entries(m.tally.byKind)) total.byKind[k as keyof Tally['byKind']] += v;
          for (const f of m.tally.failures) if (total.failures.length < 100) total.failures.push(f);
          for (const [k, v] of Object.entries(m.perTarget)) perTarget[k] = (perTarget[k] ?? 0) + v;
          onProgress();
        }
      });
      p.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      p.on('exit', (code, signal) => {
        clearInterval(watchdog);
        if (code === 0 && next >= to) return resolve();
        const crashed = Number((fs.existsSync(progress) ? fs.readFileSync(progress, 'utf8') : String(next)).trim());
        const c = caseAt(crashed, seed);
        crashes.push({
          index: crashed,
          case: `${TARGETS[c.target]!.name} ${JSON.stringify(c)}`,
          how: signal ? `signal ${signal}${still >= 12 ? ' (hang: killed by the watchdog)' : ''}` : `exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
        });
        total.calls++;
        // Cases after the last report and before the crash are replayed (deterministic); the crashing one is skipped.
        skip.push(crashed);
        if (crashes.length > 200) resolve();
        else start(next);
      });
    };
    start(from);
  });
}

async function parent(): Promise<void> {
  const calls = arg('calls', 100000);
  const seed = arg('seed', 1);
  const jobs = Math.max(1, arg('jobs', Math.min(2, os.cpus().length)));
  const total = newTally();
  const perTarget: Record<string, number> = {};
  const crashes: Crash[] = [];
  const t0 = Date.now();
  let lastPrint = 0;
  const onProgress = () => {
    if (Date.now() - lastPrint > 10000) {
      lastPrint = Date.now();
      console.log(`  ${total.calls} calls, ${crashes.length} crashes, ${total.byKind.failure} failures, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  };
  const per = Math.ceil(calls / jobs);
  const ranges = Array.from({ length: jobs }, (_, j) => [j * per, Math.min(calls, (j + 1) * per)] as const).filter(([a, b]) => b > a);
  await Promise.all(ranges.map(([a, b]) => runRange(a, b, seed, total, perTarget, crashes, onProgress)));
  const seconds = (Date.now() - t0) / 1000;
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    seed,
    jobs,
    calls: total.calls,
    crashes: crashes.length,
    failures: total.byKind.failure,
    outcomes: total.byKind,
    perTarget,
    seconds,
    crashList: crashes,
    failureList: total.failures,
  };
  const out = path.join(process.env.LW_RESULTS_DIR ?? path.join(__dirname, '..', 'bench', 'results'), 'fuzz-long.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(summary, null, 2));
  console.log(`fuzz-long: ${total.calls} calls over ${Object.keys(perTarget).length} functions in ${seconds.toFixed(0)} s (seed ${seed}, ${jobs} jobs)`);
  console.log(`  outcomes: ${JSON.stringify(total.byKind)}`);
  console.log(`  crashes: ${crashes.length}${crashes.map((c) => `\n    #${c.index} ${c.case}: ${c.how}`).join('')}`);
  console.log(`  failures: ${total.byKind.failure}${total.failures.slice(0, 20).map((f) => `\n    ${f}`).join('')}`);
  console.log(`  written to ${path.relative(process.cwd(), out)}`);
  process.exitCode = crashes.length > 0 || total.byKind.failure > 0 ? 1 : 0;
}

if (process.argv.includes('--child')) {
  child().catch((e) => {
    console.error(e);
    process.exit(3);
  });
} else {
  void parent();
}
