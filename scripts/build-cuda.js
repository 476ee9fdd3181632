#!/usr/bin/env node
// Builds the CUDA addon → cuda/build/Release/lengthwise_cuda.node.
//   node scripts/build-cuda.js            build on purpose (npm run build:cuda, lengthwise build --cuda): fails without nvcc
//   node scripts/build-cuda.js --if-wanted   what a checkout's npm install runs: LENGTHWISE_CUDA=0 skips it,
//                                         LENGTHWISE_CUDA=1 requires it, unset builds it when nvcc is found
// LENGTHWISE_CUDA_ARCHS overrides CMAKE_CUDA_ARCHITECTURES. Uses cmake-js in a checkout; plain cmake with the running
// Node's headers in an installed package (cmake-js is a devDependency).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');

function nvccFound() {
  const nvcc = spawnSync(process.env.CUDACXX || 'nvcc', ['--version'], { encoding: 'utf8' });
  return !nvcc.error && nvcc.status === 0;
}

/** Whether a checkout build includes the CUDA addon (and so whether prepack expects it). */
function cudaWanted() {
  const v = process.env.LENGTHWISE_CUDA;
  if (v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  return nvccFound();
}

function cmakeJs() {
  try {
    return require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  } catch {
    return null;
  }
}

function build() {
  const jobs = String(os.cpus().length);
  const defs = [];
  if (process.env.CUDACXX) defs.push(`CMAKE_CUDA_COMPILER=${process.env.CUDACXX}`);
  if (process.env.LENGTHWISE_CUDA_ARCHS) defs.push(`CMAKE_CUDA_ARCHITECTURES=${process.env.LENGTHWISE_CUDA_ARCHS}`);
  const cjs = cmakeJs();
  if (cjs) {
    const args = [cjs, 'build', '--out', 'cuda/build', '--parallel', jobs, ...defs.map((d) => `--CD${d}`)];
    return spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status;
  }
  // Linux/macOS need only the Node headers (Node-API symbols resolve at load time).
  const include = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  if (!fs.existsSync(path.join(include, 'node_api.h'))) {
    console.error(`build-cuda: no Node headers at ${include}; install cmake-js (npm install cmake-js) and retry`);
    return 1;
  }
  const out = path.join(root, 'cuda', 'build');
  const cfg = spawnSync('cmake', ['-S', root, '-B', out, '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_JS_INC=${include}`,
    `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${path.join(out, 'Release')}`, ...defs.map((d) => `-D${d}`)], { stdio: 'inherit' });
  if (cfg.error || cfg.status !== 0) return cfg.status || 1;
  return spawnSync('cmake', ['--build', out, '--parallel', jobs], { stdio: 'inherit' }).status;
}

if (require.main === module) {
  if (process.argv.includes('--if-wanted') && !cudaWanted()) {
    console.log(
      process.env.LENGTHWISE_CUDA === '0' || process.env.LENGTHWISE_CUDA === 'false'
        ? 'lengthwise: LENGTHWISE_CUDA=0: skipping the CUDA addon (CPU backend only)'
        : 'lengthwise: nvcc not found; skipping the CUDA addon (CPU backend only). Set CUDACXX to use another nvcc.',
    );
    process.exit(0);
  }
  if (!nvccFound()) {
    console.error('build-cuda: nvcc not found (install the CUDA toolkit, or set CUDACXX to the nvcc to use)');
    process.exit(1);
  }
  const status = build();
  process.exit(status === null ? 1 : status);
}

module.exports = { cudaWanted };
