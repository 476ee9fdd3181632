/**
 * The loader: finds the CPU addon (always) and the CUDA addon (when present and a device is visible), caches the
 * choice, and resolves the backend of each call from `opts.backend`, `LENGTHWISE_BACKEND`, or auto.
 *
 * @packageDocumentation
 */
import * as path from 'path';
import { show } from './show';

/** A compute backend. `auto` picks CUDA when a device is visible, else CPU. */
export type BackendName = 'cpu' | 'cuda';
/** Backend request: a concrete backend or `auto`. */
export type BackendChoice = BackendName | 'auto';

/**
 * Forces native code paths for one call: tests and benchmarks compare paths this way (internal, not part of the
 * stable API). Keys left out keep the process's values (LENGTHWISE_SIMD, LENGTHWISE_TREE_PATH,
 * LENGTHWISE_TREE_CLUSTER, read once by the addon).
 * @internal
 */
export interface NativeTuning {
  /** Highest CPU SIMD level (the CPU's support caps it further). */
  simd?: 'scalar' | 'avx2' | 'avx512';
  /** verifyTree CUDA: the lazy walk or the all-rows path ('auto' = chosen per call). */
  treePath?: 'auto' | 'lazy' | 'rows';
  /** verifyTree CUDA: blocks per request, the largest resident power of two <= n (0 = auto). */
  treeCluster?: number;
  /** XL3M CUDA inner loop: 0 lean (128 threads), 1 lean (256 threads), 2 full statistics (128 threads). */
  xl3mVariant?: 0 | 1 | 2;
}

/** The native addon's surface (internal; every capability adds functions). */
export interface NativeAddon {
  info(): { threads: number; simd: string; version: string; cuda: boolean };
  devices(): { compiled: boolean; status: string; devices: { name: string; memoryBytes: number; computeCapability: string }[] };
  // Each capability declares its own functions; they are reached through `call`.
  [fn: string]: unknown;
}

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
    throw new Error(
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
  throw new RangeError(`LENGTHWISE_BACKEND must be 'cpu', 'cuda' or 'auto' (got '${v}')`);
}

/**
 * Resolves the backend of one call. An explicit `cuda` (per call or from the environment) without a usable GPU
 * throws; `auto` falls back to the CPU.
 */
export function resolveBackend(requested?: BackendChoice): BackendName {
  if (requested !== undefined && requested !== 'auto' && requested !== 'cpu' && requested !== 'cuda') {
    throw new RangeError(`opts.backend must be 'cpu', 'cuda' or 'auto' (got ${show(requested)})`);
  }
  const choice = requested ?? envChoice();
  if (choice === 'cpu') return 'cpu';
  const cuda = cudaNative();
  if (choice === 'cuda') {
    if (!cuda) throw new Error(`lengthwise: backend 'cuda' was requested but ${cudaUnavailableReason}`);
    return 'cuda';
  }
  return cuda ? 'cuda' : 'cpu';
}

/** The addon that runs the given backend. */
export function nativeFor(backend: BackendName): NativeAddon {
  if (backend === 'cuda') {
    const cuda = cudaNative();
    if (!cuda) throw new Error(`lengthwise: backend 'cuda' is unavailable: ${cudaUnavailableReason}`);
    return cuda;
  }
  return cpuNative();
}

/** Calls a native function by name on the addon of `backend` (capabilities use this, typed at their call site). */
export function nativeFunction<F extends (...args: never[]) => unknown>(backend: BackendName, name: string): F {
  const fn = nativeFor(backend)[name];
  if (typeof fn !== 'function') {
    throw new Error(`lengthwise: the ${backend} addon has no function '${name}' (a stale build? rebuild with \`npm run compile\`)`);
  }
  return fn as F;
}

/**
 * Backend for an API call, also honouring data placement: device tensors run on CUDA (a request for 'cpu' with
 * device data is an error).
 */
export function backendForCall(requested: BackendChoice | undefined, deviceData: boolean): BackendName {
  if (deviceData) {
    if (requested === 'cpu') {
      throw new RangeError("opts.backend is 'cpu' but the data is a DeviceTensor; download() it first or use 'cuda'");
    }
    return resolveBackend('cuda');
  }
  return resolveBackend(requested);
}
