#!/usr/bin/env node
// Builds and runs the native check programs listed under "checks" in native/sources.json, from the same source
// groups and with the same flags as the addons:
//  - CPU checks: node-gyp builds them from a binding.gyp generated here whose targets carry binding.gyp's own
//    addon settings (defines, includes, cflags, ldflags), so they compile exactly as the CPU addon does; each
//    source group is one static library, linked whole (as the addon links its objects).
//  - GPU checks: CMakeLists.txt's `checks` target (-DLW_CHECKS=ON), with the CUDA addon's architectures and options.
// Everything goes to build-checks/. Usage:
//   node scripts/checks.js cpu|gpu [--build-only] [name ...]   build (then run) all CPU or GPU checks, or the named
//   node scripts/checks.js path NAME                            print where the built program of NAME is
//   node scripts/checks.js cpu --target linux-arm64-gnu [...]   the CPU checks cross-compiled with the toolchain and
//                                                               flags of scripts/cross-build.js (→ build-checks/<id>/)
//                                                               and run under qemu-user (npm run check:arm64)
// A check passes when its program exits 0; the runner prints each check's last output line as its pass line and
// exits non-zero if any check failed. GPU checks are built anywhere nvcc exists and run only where a GPU is visible.
// LW_CHECK_ARGS_<name> (e.g. LW_CHECK_ARGS_tree_verify="100000") replaces a check's arguments.
'use strict';
const { spawnSync, execSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { list, files } = require('./sources');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'build-checks');
const cpuDir = path.join(outDir, 'cpu');
const gpuDir = path.join(outDir, 'cuda');
const jobs = String(Math.max(1, os.cpus().length));

function fail(msg) {
  console.error(`checks: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${[cmd, ...args].join(' ')} exited with ${r.status ?? r.signal}`);
}

function selected(gpu, names) {
  const all = Object.entries(list.checks).filter(([, c]) => Boolean(c.gpu) === gpu);
  if (names.length === 0) return all;
  for (const n of names) if (!list.checks[n]) fail(`native/sources.json has no check "${n}"`);
  return all.filter(([n]) => names.includes(n));
}

// --target <id>: the cross toolchain (scripts/cross-build.js) and how its programs run here (qemu-user).
let cross = null;

function binary(name) {
  const c = list.checks[name];
  if (!c) fail(`native/sources.json has no check "${name}"`);
  if (cross) return path.join(outDir, cross.id, name);
  return c.gpu ? path.join(gpuDir, name) : path.join(cpuDir, 'build', 'Release', name);
}

// ---------- CPU: a generated binding.gyp with the addon's own settings ----------

// gyp runs <!(cmd) / <!@(cmd) relative to the .gyp file; the generated file lives elsewhere, so expand them here,
// from the repository root, as node-gyp would for binding.gyp.
function expand(value) {
  if (Array.isArray(value)) {
    return value.flatMap((v) => {
      const m = typeof v === 'string' && /^<!@\((.*)\)$/.exec(v);
      return m ? execSync(m[1], { cwd: root, encoding: 'utf8' }).trim().split(/\s+/) : [expand(v)];
    });
  }
  if (typeof value === 'string') {
    return value.replace(/<!\(([^()]*(?:\([^()]*\)[^()]*)*)\)/g, (_, cmd) => execSync(cmd, { cwd: root, encoding: 'utf8' }).trim());
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v)]));
  }
  return value;
}

function addonSettings() {
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  const { target_name: _name, sources: _sources, ...settings } = gyp.targets[0];
  const s = expand(settings);
  const rel = (p) => (path.isAbsolute(p) ? p : path.relative(cpuDir, path.join(root, p)));
  s.include_dirs = (s.include_dirs || []).map(rel);
  return { settings: s, rel };
}

function buildCpu(checks) {
  const { settings, rel } = addonSettings();
  const groups = [...new Set(checks.flatMap(([, c]) => c.groups))];
  const targets = groups.map((g) => ({
    target_name: `lw_${g}`,
    type: 'static_library',
    sources: files([g]).map(rel),
    ...settings,
  }));
  for (const [name, c] of checks) {
    // Whole archives, as the addon links its objects: backends register their kernel tables from static
    // initialisers (core/backend.h) that nothing references by name. gyp puts ldflags before the archives and
    // libraries after them.
    targets.push({
      target_name: name,
      type: 'executable',
      sources: [rel(c.source)],
      dependencies: c.groups.map((g) => `lw_${g}`),
      ...settings,
      ldflags: [...(settings.ldflags || []), '-Wl,--whole-archive'],
      libraries: ['-Wl,--no-whole-archive', ...(settings.libraries || [])],
    });
  }
  fs.mkdirSync(cpuDir, { recursive: true });
  const gypFile = path.join(cpuDir, 'binding.gyp');
  const text = JSON.stringify({ targets }, null, 2);
  const fresh = !fs.existsSync(gypFile) || fs.readFileSync(gypFile, 'utf8') !== text;
  if (fresh) fs.writeFileSync(gypFile, text);
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  if (fresh || !fs.existsSync(path.join(cpuDir, 'build', 'Makefile'))) {
    run(process.execPath, [nodeGyp, 'configure', '--directory', cpuDir, '--loglevel', 'warn']);
  }
  run(process.execPath, [nodeGyp, 'build', '--directory', cpuDir, '--jobs', jobs, '--loglevel', 'warn']);
}

// ---------- CPU, cross-compiled: the addon's cross flags, objects linked whole ----------

function newestHeader() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(h|hpp)$/.test(e.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(root, 'native'));
  walk(path.join(root, 'test', 'native'));
  return newest;
}

async function buildCross(checks) {
  const { compileFlags, compileAll } = require('./cross-build');
  const { tc, id } = cross;
  const dir = path.join(outDir, id);
  const objDir = path.join(dir, 'obj');
  fs.mkdirSync(objDir, { recursive: true });
  const flags = compileFlags(tc, require(path.join(root, 'package.json')).version);
  const obj = (src) => path.join(objDir, `${src.replace(/[/\\.]/g, '_')}.o`);
  const groups = [...new Set(checks.flatMap(([, c]) => c.groups))];
  const sources = [...new Set([...files(groups), ...checks.map(([, c]) => c.source)])];
  // Recompiles what is older than its source or than any header (a flags change: delete build-checks/<id>).
  const headers = newestHeader();
  const stale = sources.filter((src) => {
    const o = obj(src);
    if (!fs.existsSync(o)) return true;
    const t = fs.statSync(o).mtimeMs;
    return t < fs.statSync(path.join(root, src)).mtimeMs || t < headers;
  });
  console.log(`checks: ${tc.cxx}: ${stale.length} of ${sources.length} sources to compile → ${path.relative(root, objDir)}`);
  if (stale.length) await compileAll(tc, stale.map((src) => ({ src, obj: obj(src) })), flags, Number(jobs));
  for (const [name, c] of checks) {
    run(tc.cxx, ['-o', binary(name), obj(c.source), ...files(c.groups).map(obj), ...tc.exeLdflags]);
  }
}

// ---------- GPU: CMakeLists.txt's checks target ----------

function buildGpu(checks) {
  const args = ['-S', root, '-B', gpuDir, '-DLW_CHECKS=ON', '-DCMAKE_BUILD_TYPE=Release'];
  if (process.env.CUDACXX) args.push(`-DCMAKE_CUDA_COMPILER=${process.env.CUDACXX}`);
  run('cmake', args);
  run('cmake', ['--build', gpuDir, '--parallel', jobs, '--target', ...checks.map(([n]) => n)]);
}

function gpuVisible() {
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' });
  return !r.error && r.status === 0 && /GPU \d/.test(r.stdout);
}

// ---------- running ----------

function runOne(name, env) {
  const c = list.checks[name];
  const override = process.env[`LW_CHECK_ARGS_${name}`];
  const args = override !== undefined ? override.split(/\s+/).filter(Boolean) : c.args || [];
  const t0 = Date.now();
  const [cmd, ...pre] = cross ? [...cross.tc.runner, binary(name)] : [binary(name)];
  const r = spawnSync(cmd, [...pre, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const out = (r.stdout || '') + (r.stderr || '');
  process.stdout.write(out);
  const lines = out.trim().split('\n');
  return { ok: !r.error && r.status === 0, status: r.error ? r.error.message : r.status ?? r.signal,
           last: lines[lines.length - 1] || '', seconds: (Date.now() - t0) / 1000 };
}

// One run per value of the environment variable; the last word of the output (a hash of every result) must agree.
function runSameHash(name, under) {
  const [[key, values]] = Object.entries(under);
  const seen = [];
  let seconds = 0;
  for (const v of values) {
    console.log(`-- ${name} with ${key}=${v}`);
    const r = runOne(name, { [key]: v });
    seconds += r.seconds;
    if (!r.ok) return r;
    const words = r.last.split(/\s+/);
    seen.push({ value: v, level: words[0], hash: words[words.length - 1] });
  }
  const levels = new Set(seen.map((s) => s.level));
  const hashes = new Set(seen.map((s) => s.hash));
  const ok = hashes.size === 1;
  const note = levels.size < seen.length ? ` (this CPU ran only ${[...levels].join(', ')}: not every level compared)` : '';
  const last = ok ? `same hash ${seen[0].hash} under ${seen.map((s) => s.level).join(' and ')}${note}`
                  : `hashes differ: ${seen.map((s) => `${s.level} ${s.hash}`).join(', ')}`;
  return { ok, status: ok ? 0 : 'hash mismatch', last, seconds };
}

// The "reference" group is linked by checks only. Were a shipped file to call into it, the addon would still link
// (a shared library may leave symbols undefined) and fail only when called, so check the built addon for
// undefined lengthwise symbols (mangled names in namespace lw start with _ZN2lw or _ZNK2lw).
function addonLinks() {
  const addon = cross ? path.join(root, 'prebuilds', cross.id, 'lengthwise.node') : path.join(root, 'build', 'Release', 'lengthwise.node');
  if (!fs.existsSync(addon)) return null;
  const r = spawnSync(cross ? cross.tc.nm : 'nm', ['-D', '--undefined-only', addon], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const missing = r.stdout.split('\n').filter((l) => /\s_ZN?K?2lw/.test(l)).map((l) => l.trim().split(/\s+/).pop());
  const ok = missing.length === 0;
  return { name: 'addon_links', ok, status: ok ? 0 : 'undefined symbols', seconds: 0,
           last: ok ? `${path.relative(root, addon)} needs no lw:: symbol from outside its groups`
                    : `${path.relative(root, addon)} leaves undefined: ${missing.join(' ')}` };
}

function runAll(checks, extra = []) {
  const results = [...extra];
  for (const [name, c] of checks) {
    if (c.tool) continue;
    console.log(`\n== check ${name}`);
    const r = c.sameHashUnder ? runSameHash(name, c.sameHashUnder) : runOne(name, {});
    results.push({ name, ...r });
    console.log(`== check ${name}: ${r.ok ? 'passed' : `FAILED (${r.status})`} in ${r.seconds.toFixed(1)} s: ${r.last}`);
  }
  console.log('\n== native checks summary');
  for (const r of results) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.name.padEnd(18)} ${r.seconds.toFixed(1).padStart(7)} s  ${r.last}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) fail(`${failed.length} check(s) failed: ${failed.map((r) => r.name).join(', ')}`);
}

// ---------- main ----------

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'path') {
  if (rest.length !== 1) fail('usage: node scripts/checks.js path NAME');
  process.stdout.write(binary(rest[0]) + '\n');
} else if (mode === 'cpu' || mode === 'gpu') {
  const at = rest.indexOf('--target');
  if (at >= 0) {
    if (mode !== 'cpu') fail('--target is for the CPU checks');
    const id = rest.splice(at, 2)[1];
    const tc = require('./cross-build').toolchain(id);
    if (!tc.runner) fail(`no way to run ${id} programs here`);
    cross = { id, tc };
  }
  const buildOnly = rest.includes('--build-only');
  const checks = selected(mode === 'gpu', rest.filter((a) => a !== '--build-only'));
  (async () => {
    // All CPU checks share one generated project (rebuilding it only when sources.json or binding.gyp change).
    if (cross) await buildCross(selected(false, []));
    else if (mode === 'cpu') buildCpu(selected(false, []));
    else buildGpu(checks);
    if (buildOnly) process.exit(0);
    if (mode === 'gpu' && !gpuVisible()) {
      console.log('checks: built the GPU checks; no GPU visible here (nvidia-smi), so none was run');
      process.exit(0);
    }
    const links = mode === 'cpu' ? addonLinks() : null;
    runAll(checks, links ? [links] : []);
  })().catch((e) => fail(e.message));
} else {
  fail('usage: node scripts/checks.js cpu|gpu [--build-only] [--target ID] [name ...] | path NAME');
}
