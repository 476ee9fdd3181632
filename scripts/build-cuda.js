#!/usr/bin/env node
// Builds the CUDA addon (cmake-js → cuda/build/Release/lengthwise_cuda.node) when nvcc is available; otherwise
// says so and succeeds, because the CPU addon is enough to use lengthwise.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
const nvcc = spawnSync(process.env.CUDACXX || 'nvcc', ['--version'], { encoding: 'utf8' });
if (nvcc.error || nvcc.status !== 0) {
  console.log('lengthwise: nvcc not found; skipping the CUDA addon (CPU backend only). Set CUDACXX to use another nvcc.');
  process.exit(0);
}
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const args = [cmakeJs, 'build', '--out', 'cuda/build', '--parallel', String(require('os').cpus().length)];
if (process.env.CUDACXX) args.push(`--CDCMAKE_CUDA_COMPILER=${process.env.CUDACXX}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
