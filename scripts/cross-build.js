#!/usr/bin/env node
// Cross-compiles the CPU addon for another platform with a GNU toolchain, from native/sources.json (the one source
// list binding.gyp also reads) and the same defines as binding.gyp:
//   node scripts/cross-build.js linux-arm64-gnu   (Debian: g++-aarch64-linux-gnu)
//   node scripts/cross-build.js win32-x64         (Debian: g++-mingw-w64-x86-64; links an import library made from
//                                                  node-api-headers' .def files, libstdc++/libgcc/winpthread static)
// Output: prebuilds/<id>/lengthwise.node (what prepack puts into the lengthwise-<id> package).
// scripts/checks.js cpu --target linux-arm64-gnu builds the native checks with the same toolchain and flags (and
// runs them under qemu-user); this file exports what it needs.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const TOOLCHAINS = {
  'linux-arm64-gnu': {
    cxx: 'aarch64-linux-gnu-g++',
    strip: 'aarch64-linux-gnu-strip',
    cflags: ['-fPIC'],
    ldflags: ['-shared', '-pthread', '-ldl'],
    exeLdflags: ['-pthread', '-ldl'],
    nm: 'aarch64-linux-gnu-nm',
    // How to run its programs on this x86-64 machine (Debian: qemu-user-static; the sysroot of the cross compiler).
    runner: ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'],
  },
  'win32-x64': {
    // The posix-threads flavour: the win32 one has no std::thread.
    cxx: 'x86_64-w64-mingw32-g++-posix',
    strip: 'x86_64-w64-mingw32-strip',
    dlltool: 'x86_64-w64-mingw32-dlltool',
    cflags: [],
    // -static: libstdc++, libgcc and winpthread inside the .node (only system DLLs and node.exe are imported).
    ldflags: ['-shared', '-static', '-static-libgcc', '-static-libstdc++'],
  },
};

function fail(msg) {
  console.error(`cross-build: ${msg}`);
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} exited with ${r.status}`);
}

// Compiles with at most `jobs` compilers at once (the machine is small and shared).
function compileAll(tc, units, flags, jobs) {
  return new Promise((resolve, reject) => {
    let next = 0;
    let running = 0;
    let failed = false;
    const start = () => {
      while (!failed && running < jobs && next < units.length) {
        const u = units[next++];
        running++;
        const p = spawn(tc.cxx, [...flags, '-c', u.src, '-o', u.obj], { cwd: root, stdio: 'inherit' });
        p.on('error', (e) => reject(new Error(`${tc.cxx}: ${e.message}`)));
        p.on('exit', (code) => {
          running--;
          if (code !== 0) {
            failed = true;
            reject(new Error(`compiling ${u.src} failed (${tc.cxx} exited with ${code})`));
          } else if (next === units.length && running === 0) resolve();
          else start();
        });
      }
    };
    start();
  });
}

// Windows addons import napi_* from node.exe: an import library made from Node-API's own .def files.
function importLibrary(tc, outDir) {
  const defDir = path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'def');
  return ['node_api', 'js_native_api'].map((name) => {
    const lib = path.join(outDir, `${name}.a`);
    run(tc.dlltool, ['-d', path.join(defDir, `${name}.def`), '-l', lib, '-D', 'node.exe']);
    return lib;
  });
}

/** The compiler flags of the CPU addon (binding.gyp's defines and options) for a cross toolchain. */
function compileFlags(tc, version) {
  const headers = path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'include');
  return [
    '-std=c++17', '-O3', '-fvisibility=hidden', '-fexceptions', ...tc.cflags,
    '-DNAPI_VERSION=8', '-DNODE_ADDON_API_DISABLE_DEPRECATED', '-DLW_WITH_CUDA=0', `-DLW_VERSION="${version}"`,
    '-DBUILDING_NODE_EXTENSION',
    `-I${require('node-addon-api').include_dir.replace(/"/g, '')}`, `-I${headers}`, `-I${path.join(root, 'native')}`,
  ];
}

function toolchain(id) {
  const tc = TOOLCHAINS[id];
  if (!tc) fail(`unknown target ${id} (cross toolchains: ${Object.keys(TOOLCHAINS).join(', ')})`);
  const probe = spawnSync(tc.cxx, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) fail(`${tc.cxx} not found (Debian: see the comment at the top of scripts/cross-build.js)`);
  return tc;
}

async function main() {
  const id = process.argv[2];
  if (!TOOLCHAINS[id]) fail(`usage: node scripts/cross-build.js <${Object.keys(TOOLCHAINS).join('|')}>`);
  const tc = toolchain(id);

  const list = require(path.join(root, 'native', 'sources.json'));
  const sources = ['core', 'cpu', 'nocuda', 'addon'].flatMap((g) => list[g]);
  const version = require(path.join(root, 'package.json')).version;
  const objDir = path.join(root, 'build-cross', id);
  fs.rmSync(objDir, { recursive: true, force: true });
  fs.mkdirSync(objDir, { recursive: true });
  const flags = compileFlags(tc, version);
  const units = sources.map((src, i) => ({ src, obj: path.join(objDir, `${i}_${path.basename(src)}.o`) }));
  const jobs = Math.max(1, Math.min(Number(process.env.JOBS) || os.cpus().length, 4));
  const t0 = Date.now();
  await compileAll(tc, units, flags, jobs);

  const outDir = path.join(root, 'prebuilds', id);
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'lengthwise.node');
  const libs = tc.dlltool ? importLibrary(tc, objDir) : [];
  run(tc.cxx, ['-o', out, ...units.map((u) => u.obj), ...libs, ...tc.ldflags]);
  run(tc.strip, ['--strip-unneeded', out]);
  const kb = (fs.statSync(out).size / 1024).toFixed(0);
  console.log(`cross-build: ${path.relative(root, out)} (${kb} kB, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

module.exports = { TOOLCHAINS, toolchain, compileFlags, compileAll };

if (require.main === module) main().catch((e) => fail(e.message));
