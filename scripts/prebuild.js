#!/usr/bin/env node
// Prebuilt binaries for the package: the CPU addon via prebuildify (--napi --strip --tag-libc) into prebuilds/,
// and the CUDA addon (when it has been built) into its own root, cuda/prebuilds/, so node-gyp-build never
// confuses the two.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status === null ? 1 : r.status);
};

run(process.execPath, [require.resolve('prebuildify/bin.js'), '--napi', '--strip', '--tag-libc']);

const cudaBuilt = path.join(root, 'cuda', 'build', 'Release', 'lengthwise_cuda.node');
if (fs.existsSync(cudaBuilt)) {
  const libc = process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc') : '';
  const dir = path.join(root, 'cuda', 'prebuilds', `${process.platform}-${process.arch}`);
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, `lengthwise_cuda.napi${libc ? '.' + libc : ''}.node`);
  fs.copyFileSync(cudaBuilt, dest);
  spawnSync('strip', ['--strip-unneeded', dest], { stdio: 'inherit' });
  console.log(`prebuild: CUDA addon → ${path.relative(root, dest)}`);
} else {
  console.log('prebuild: no CUDA addon built (cuda/build/Release); CPU prebuild only');
}
