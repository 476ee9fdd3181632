/**
 * `lengthwise build [--cuda]`: builds the native addon from the sources shipped in the package, for platforms
 * without a prebuilt part (or to replace it). The result lands in <package>/build/Release (CUDA:
 * <package>/cuda/build/Release), which the loader tries first. Uses npm's own node-gyp and the Node headers next to
 * the running node when they are there, so it works offline.
 *
 * @packageDocumentation
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../runtime/platform';
import type { Args, CommandSpec } from './framework';

function nodeGyp(): string | null {
  const fromNpm = process.env.npm_config_node_gyp;
  const tries = [
    fromNpm,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    tries.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [packageRoot] }));
  } catch {
    // not installed beside lengthwise: npm's copy will do
  }
  return tries.find((f): f is string => !!f && fs.existsSync(f)) ?? null;
}

/** The Node install whose include/node has the headers (so node-gyp needs no download), or null. */
function localNodeDir(): string | null {
  const prefix = path.join(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? path.resolve(prefix) : null;
}

function buildCpu(): number {
  const gyp = nodeGyp();
  if (!gyp) {
    process.stderr.write('lengthwise build: node-gyp not found (npm ships one; or `npm install -g node-gyp`)\n');
    return 1;
  }
  const args = [gyp, 'rebuild'];
  const nodedir = localNodeDir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  process.stderr.write(`lengthwise build: ${path.basename(process.execPath)} ${args.join(' ')} (in ${packageRoot})\n`);
  const r = spawnSync(process.execPath, args, { cwd: packageRoot, stdio: 'inherit' });
  return r.status ?? 1;
}

function buildCuda(): number {
  const r = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'build-cuda.js')], {
    cwd: packageRoot,
    stdio: 'inherit',
    env: { ...process.env, LENGTHWISE_CUDA: '1' },
  });
  return r.status ?? 1;
}

async function runBuild(args: Args): Promise<number> {
  const cuda = args.flag('cuda');
  const status = cuda ? buildCuda() : buildCpu();
  if (status !== 0) {
    process.stderr.write(`lengthwise build: the build failed (exit status ${status})\n`);
    return 1;
  }
  const file = cuda
    ? path.join(packageRoot, 'cuda', 'build', 'Release', 'lengthwise_cuda.node')
    : path.join(packageRoot, 'build', 'Release', 'lengthwise.node');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require(file) as { info(): { version: string; simd: string } };
  process.stdout.write(`lengthwise build: ${file} loads (version ${addon.info().version}, SIMD ${addon.info().simd})\n`);
  return 0;
}

/** `lengthwise build`. @internal */
export const command: CommandSpec = {
  name: 'build',
  summary: 'build the native addon from source in this install (for platforms without a prebuilt part)',
  usage: 'build [--cuda]',
  description: `Builds the CPU addon from source inside this installed package (node-gyp: needs python3, make or MSBuild,
and a C++17 compiler). The loader prefers these builds over prebuilt parts.`,
  options: {
    cuda: {
      type: 'boolean',
      help: "build the CUDA addon instead (needs nvcc and cmake; LENGTHWISE_CUDA_ARCHS overrides the architectures, e.g. '75-real;80-real;90-real;90-virtual')",
    },
  },
  json: false,
  exits: { 1: 'node-gyp not found, or the compiler / node-gyp / cmake failed (their output above says why)' },
  run: runBuild,
};
