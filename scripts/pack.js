#!/usr/bin/env node
// npm pack / npm publish of lengthwise (package.json prepack / postpack):
//   prepack   stages this machine's builds (scripts/prebuild.js), refuses to go on when an expected binary is
//             missing (naming each), packs every prebuilt part found in prebuilds/ as its own package
//             (lengthwise-<id>-<version>.tgz beside the main tarball), and swaps in the publish manifest
//             (scripts/pack-lib.js: no lifecycle scripts, the packed CPU parts as optionalDependencies)
//   postpack  puts the checkout's package.json back
// Expected: this machine's CPU part, its CUDA part when the checkout builds CUDA (LENGTHWISE_CUDA), and
// LENGTHWISE_PACK_TARGETS ('all' or ids) for a release that gathers the other platforms' parts.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { expectedTargets, missingBinaries, binaryPath, partManifest, publishManifest } = require('./pack-lib');
const { cudaWanted } = require('./build-cuda');
const { stageHostBuilds } = require('./prebuild');

const root = path.join(__dirname, '..');
const manifestFile = path.join(root, 'package.json');
const backup = path.join(root, '.package.json.checkout');

function fail(msg) {
  console.error(msg);
  process.exit(1);
}

function restore() {
  if (fs.existsSync(backup)) fs.renameSync(backup, manifestFile);
}

function versionOf(file) {
  const r = spawnSync(process.execPath, ['-p', `require(${JSON.stringify(file)}).info().version`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function prepack() {
  restore(); // a pack that died before postpack left the publish manifest in place
  const main = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const { targets } = JSON.parse(fs.readFileSync(path.join(root, 'platforms.json'), 'utf8'));
  const { hostCpuTarget, hostCudaTarget } = require(path.join(root, 'dist', 'runtime', 'platform.js'));
  stageHostBuilds();
  const prebuilds = path.join(root, 'prebuilds');
  const expected = expectedTargets(targets, {
    hostCpu: hostCpuTarget(),
    hostCuda: hostCudaTarget(),
    cudaWanted: cudaWanted(),
    extra: process.env.LENGTHWISE_PACK_TARGETS,
  });
  const missing = missingBinaries(prebuilds, expected);
  if (missing.length > 0) {
    fail(`prepack: refusing to pack lengthwise without every expected binary; missing:\n  ${missing.join('\n  ')}`);
  }
  // A binary that loads here must be this version (a stale build would ship the wrong code).
  for (const t of expected.filter((x) => x.id === hostCpuTarget() || x.id === hostCudaTarget())) {
    const v = versionOf(binaryPath(prebuilds, t));
    if (v !== main.version) fail(`prepack: ${binaryPath(prebuilds, t)} reports version ${v}, package is ${main.version}: rebuild it`);
  }
  const packed = targets.filter((t) => fs.existsSync(binaryPath(prebuilds, t)));
  const dest = path.resolve(process.env.npm_config_pack_destination || process.cwd());
  for (const t of packed) {
    const dir = path.join(root, 'npm', t.id);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(partManifest(main, t), null, 2) + '\n');
    fs.copyFileSync(binaryPath(prebuilds, t), path.join(dir, t.file));
    fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
    fs.writeFileSync(path.join(dir, 'README.md'),
      `# lengthwise-${t.id}\n\nThe ${t.kind === 'cuda' ? 'CUDA' : 'CPU'} addon of [lengthwise](https://www.npmjs.com/package/lengthwise) ` +
      `for ${t.id}. ${t.kind === 'cuda' ? 'Install it next to lengthwise to use NVIDIA GPUs.' : 'lengthwise installs it by itself (optional dependency).'}\n`);
    const r = spawnSync('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' });
    if (r.status !== 0) fail(`prepack: npm pack of ${dir} failed:\n${r.stderr}`);
    console.error(`prepack: ${path.join(dest, r.stdout.trim().split('\n').pop())} (${t.kind} part for ${t.id})`);
  }
  fs.copyFileSync(manifestFile, backup);
  fs.writeFileSync(manifestFile, JSON.stringify(publishManifest(main, packed), null, 2) + '\n');
}

if (process.argv[2] === 'prepack') prepack();
else if (process.argv[2] === 'postpack') restore();
else fail('usage: node scripts/pack.js prepack|postpack');
