// The packaging rules, as plain functions (scripts/pack.js runs them; test/packaging.test.ts checks them):
// which prebuilt parts a pack must have, what is missing, and the manifests that get published.
'use strict';
const fs = require('fs');
const path = require('path');

/**
 * The targets (platforms.json ids) a pack must carry: this machine's CPU part, its CUDA part when the checkout
 * builds CUDA, and whatever LENGTHWISE_PACK_TARGETS adds ('all', or ids separated by commas; a release sets it).
 */
function expectedTargets(targets, { hostCpu, hostCuda, cudaWanted, extra }) {
  const ids = new Set([hostCpu]);
  if (cudaWanted) ids.add(hostCuda);
  for (const id of (extra || '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (id === 'all') targets.forEach((t) => ids.add(t.id));
    else ids.add(id);
  }
  const known = new Map(targets.map((t) => [t.id, t]));
  const unknown = [...ids].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new Error(`prepack: ${unknown.join(', ')} not in platforms.json (known: ${[...known.keys()].join(', ')})`);
  }
  return [...ids].map((id) => known.get(id));
}

/** The binary of a target inside the prebuilds/ folder. */
function binaryPath(prebuildsDir, t) {
  return path.join(prebuildsDir, t.id, t.file);
}

/** How to produce a missing binary, for the refusal message. */
function howToBuild(t) {
  if (t.kind === 'cuda') return 'npm run build:cuda && npm run prebuild (needs nvcc; LENGTHWISE_CUDA=0 packs without CUDA)';
  if (t.built === 'cross') return `node scripts/cross-build.js ${t.id}`;
  if (t.built === 'ci') return `the ${t.id} job of .github/workflows/prebuilds.yml`;
  return 'npm run build:native && npm run prebuild';
}

/** One line per expected binary that is absent (empty when the pack may go ahead). */
function missingBinaries(prebuildsDir, expected) {
  return expected
    .filter((t) => !fs.existsSync(binaryPath(prebuildsDir, t)))
    .map((t) => {
      const what = t.kind === 'cuda' ? 'the CUDA addon' : 'the CPU addon';
      return `${path.join('prebuilds', t.id, t.file)} (${what} for ${t.id}, package lengthwise-${t.id}): build it with ${howToBuild(t)}`;
    });
}

/** package.json of one prebuilt part. */
function partManifest(main, t) {
  const m = {
    name: `lengthwise-${t.id}`,
    version: main.version,
    description: `${t.kind === 'cuda' ? 'CUDA' : 'CPU'} addon of lengthwise for ${t.id} (installed by or for lengthwise; not used alone)`,
    license: main.license,
    os: [t.os],
    cpu: [t.cpu],
  };
  if (t.libc) m.libc = [t.libc];
  m.files = [t.file];
  // The CUDA part is installed on purpose next to lengthwise; the peer ties their versions together.
  if (t.kind === 'cuda') m.peerDependencies = { lengthwise: main.version };
  return m;
}

/**
 * The published lengthwise manifest for the parts packed with it: no lifecycle scripts (consumers run no install
 * code) and no devDependencies; the CPU parts as optionalDependencies, so npm installs only the one whose
 * os/cpu/libc match; the CUDA parts as optional peers, which npm never installs by itself (the loader reads both
 * lists to say what exists for this platform).
 */
function publishManifest(main, packed) {
  const out = { ...main };
  delete out.scripts;
  delete out.devDependencies;
  const optional = { ...(main.optionalDependencies || {}) };
  const peers = { ...(main.peerDependencies || {}) };
  const peersMeta = { ...(main.peerDependenciesMeta || {}) };
  for (const t of packed) {
    const name = `lengthwise-${t.id}`;
    if (t.kind === 'cpu') optional[name] = main.version;
    else {
      peers[name] = main.version;
      peersMeta[name] = { optional: true };
    }
  }
  if (Object.keys(optional).length) out.optionalDependencies = optional;
  if (Object.keys(peers).length) {
    out.peerDependencies = peers;
    out.peerDependenciesMeta = peersMeta;
  }
  return out;
}

module.exports = { expectedTargets, missingBinaries, binaryPath, partManifest, publishManifest };
