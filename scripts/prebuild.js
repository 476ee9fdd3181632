#!/usr/bin/env node
// Copies this machine's builds into prebuilds/<id>/ (stripped), where scripts/pack.js takes each prebuilt part from:
//   build/Release/lengthwise.node           → prebuilds/linux-x64-gnu/lengthwise.node   (id from lib/runtime/platform.ts)
//   cuda/build/Release/lengthwise_cuda.node → prebuilds/cuda-linux-x64/lengthwise_cuda.node (when it was built)
// Cross builds (scripts/cross-build.js) write their prebuilds/<id>/ themselves.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

function platform() {
  try {
    return require(path.join(root, 'dist', 'runtime', 'platform.js'));
  } catch {
    console.error('prebuild: dist/runtime/platform.js missing: run npm run build:ts first');
    process.exit(1);
  }
}

/** Copies what was built; returns the ids it staged. */
function stageHostBuilds() {
  const { hostCpuTarget, hostCudaTarget } = platform();
  const staged = [];
  for (const [from, id, file] of [
    [path.join(root, 'build', 'Release', 'lengthwise.node'), hostCpuTarget(), 'lengthwise.node'],
    [path.join(root, 'cuda', 'build', 'Release', 'lengthwise_cuda.node'), hostCudaTarget(), 'lengthwise_cuda.node'],
  ]) {
    if (!fs.existsSync(from)) continue;
    const dir = path.join(root, 'prebuilds', id);
    fs.mkdirSync(dir, { recursive: true });
    const dest = path.join(dir, file);
    fs.copyFileSync(from, dest);
    // macOS strip has no --strip-unneeded; -x keeps the exported napi_register_module_v1.
    if (process.platform === 'darwin') spawnSync('strip', ['-x', dest], { stdio: 'inherit' });
    else if (process.platform !== 'win32') spawnSync('strip', ['--strip-unneeded', dest], { stdio: 'inherit' });
    console.log(`prebuild: ${path.relative(root, from)} → ${path.relative(root, dest)} (${(fs.statSync(dest).size / 1024).toFixed(0)} kB)`);
    staged.push(id);
  }
  return staged;
}

if (require.main === module) {
  if (stageHostBuilds().length === 0) {
    console.error('prebuild: nothing built yet (build/Release, cuda/build/Release): npm run build:native first');
    process.exit(1);
  }
}

module.exports = { stageHostBuilds };
