/**
 * The loader: finds the CPU addon (always) and the CUDA addon (when present and a device is visible), caches the
 * choice, and resolves the backend of each call from `opts.backend`, `LENGTHWISE_BACKEND`, or auto.
 *
 * @packageDocumentation
 */
import * as path from 'path';
import type { AddonFunctions, AddonModule, NativeFunctionName } from './addonTypes';
import { lwError, oneOf, outOfRange } from './validate';

/** A compute backend. `auto` picks CUDA when a device is visible, else CPU. */
export type BackendName = 'cpu' | 'cuda';
/** Backend request: a concrete backend or `auto`. */
export type BackendChoice = BackendName | 'auto';

const BACKEND_CHOICES = ['cpu', 'cuda', 'auto'] as const satisfies readonly BackendChoice[];

/** The native addon's surface: declared once, in ./addonTypes. */
export type NativeAddon = AddonModule;

const root = path.join(__dirname, '..');
let cpuAddon: NativeAddon | undefined;
let cudaAddon: NativeAddon | null | undefined; // null = tried, unavailable
let cudaUnavailableReason = '';

function loadWith(dir: string): NativeAddon {
  // node-gyp-build looks in <dir>/build/Release then <dir>/prebuilds/<platform>-<arch>.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
  return nodeGypBuild(dir);
}

/** The CPU addon; throws one actionable error when it cannot be loaded. */
export function cpuNative(): NativeAddon {
  if (cpuAddon) return cpuAddon;
  try {
    cpuAddon = loadWith(root);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw lwError('ERR_LENGTHWISE_LOAD',
      `lengthwise: could not load the native CPU addon.\n` +
        `  tried: ${path.join(root, 'build', 'Release')} and ${path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)}\n` +
        `  why: ${why}\n` +
        `  fix: install a release with prebuilt binaries for ${process.platform}-${process.arch} (Node-API 8), or build from ` +
        `source in a checkout with \`npm install\` (or \`npx node-gyp rebuild\`; needs python3, make and a C++17 compiler).`,
    );
  }
  return cpuAddon;
}

/** The CUDA addon if it loads and reports at least one device, else null (with the reason kept). */
export function cudaNative(): NativeAddon | null {
  if (cudaAddon !== undefined) return cudaAddon;
  try {
    const addon = loadWith(path.join(root, 'cuda'));
    const d = addon.devices();
    if (d.devices.length === 0) {
      cudaUnavailableReason = `the CUDA addon loaded but sees no device (${d.status})`;
      cudaAddon = null;
    } else {
      cudaAddon = addon;
    }
  } catch (err) {
    cudaUnavailableReason =
      `no CUDA addon (looked in ${path.join(root, 'cuda', 'build', 'Release')} and ${path.join(root, 'cuda', 'prebuilds')}: ` +
      `${err instanceof Error ? err.message.split('\n')[0] : String(err)}); build it with \`npm run build:cuda\` where nvcc exists`;
    cudaAddon = null;
  }
  return cudaAddon;
}

/** Why the CUDA backend is unavailable ('' when it is available or was never probed). */
export function cudaUnavailable(): string {
  cudaNative();
  return cudaUnavailableReason;
}

function envChoice(): BackendChoice {
  const v = process.env.LENGTHWISE_BACKEND;
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'cpu' || v === 'cuda') return v;
  return oneOf(v, 'LENGTHWISE_BACKEND', BACKEND_CHOICES);
}

/**
 * Resolves the backend of one call. An explicit `cuda` (per call or from the environment) without a usable GPU
 * throws; `auto` falls back to the CPU.
 */
export function resolveBackend(requested?: BackendChoice): BackendName {
  const choice = requested === undefined ? envChoice() : oneOf(requested, 'opts.backend', BACKEND_CHOICES);
  if (choice === 'cpu') return 'cpu';
  const cuda = cudaNative();
  if (choice === 'cuda') {
    if (!cuda) throw lwError('ERR_LENGTHWISE_NO_CUDA', `lengthwise: backend 'cuda' was requested but ${cudaUnavailableReason}`);
    return 'cuda';
  }
  return cuda ? 'cuda' : 'cpu';
}

/** The addon that runs the given backend. */
export function nativeFor(backend: BackendName): NativeAddon {
  if (backend === 'cuda') {
    const cuda = cudaNative();
    if (!cuda) throw lwError('ERR_LENGTHWISE_NO_CUDA', `lengthwise: backend 'cuda' is unavailable: ${cudaUnavailableReason}`);
    return cuda;
  }
  return cpuNative();
}

/** The native function `name` of the addon of `backend`, typed by the one surface declaration (./addonTypes). */
export function nativeFunction<K extends NativeFunctionName>(backend: BackendName, name: K): AddonFunctions[K] {
  const fn: unknown = nativeFor(backend)[name];
  if (typeof fn !== 'function') {
    throw lwError(
      'ERR_LENGTHWISE_LOAD',
      `lengthwise: the ${backend} addon has no function '${name}' (a stale build? rebuild with \`npm run compile\`)`,
    );
  }
  // The addon is a native module: its exports are checked against AddonFunctions by tests, not by the compiler.
  return fn as AddonFunctions[K];
}

/**
 * Backend for an API call, also honouring data placement: device tensors run on CUDA (a request for 'cpu' with
 * device data is an error).
 */
export function backendForCall(requested: BackendChoice | undefined, deviceData: boolean): BackendName {
  if (deviceData) {
    if (requested === 'cpu') {
      throw outOfRange('opts.backend', "'cuda' or 'auto' for DeviceTensor data (download() it first to use 'cpu')", requested);
    }
    return resolveBackend('cuda');
  }
  return resolveBackend(requested);
}
