/**
 * The loader: loads the CPU addon (always) and the CUDA addon (when present and its report shows a usable device;
 * locating is in loader.ts, the GPU diagnosis in gpuReport.ts), caches the choice, and resolves the backend of each
 * call from `opts.backend`, `LENGTHWISE_BACKEND`, or auto.
 *
 * @packageDocumentation
 */
import type { AddonFunctions, AddonModule, NativeFunctionName } from './addonTypes';
import { interpretCudaReport, type GpuReport, type NativeCudaReport } from './gpuReport';
import { cpuLoadError, cudaMissingReason, loadBinary, loaderHooks, packageVersion } from './loader';
import { lwError, oneOf, outOfRange } from './validate';

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
  /** scaling.fit on CUDA, custom laws: 'auto' = the register evaluator where the program fits it, 'interpreter' = always the stack interpreter. */
  customLaw?: 'auto' | 'interpreter';
}

const BACKEND_CHOICES = ['cpu', 'cuda', 'auto'] as const satisfies readonly BackendChoice[];

/** The native addon's surface: declared once, in ./addonTypes. */
export type NativeAddon = AddonModule;

let cpuAddon: NativeAddon | undefined;
let cudaAddon: NativeAddon | null | undefined; // null = tried, unavailable
let cudaUnavailableReason = '';
let gpu: GpuReport | undefined;
const loadedFrom: { cpu?: string; cuda?: string } = {};

/** The CPU addon; throws one actionable error when it cannot be loaded. */
export function cpuNative(): NativeAddon {
  if (cpuAddon) return cpuAddon;
  const r = loadBinary<NativeAddon>('cpu', packageVersion(), (a) => a.info().version);
  if (!r.addon) {
    const e = cpuLoadError(r.attempts);
    throw lwError('ERR_LENGTHWISE_LOAD', e.message);
  }
  cpuAddon = r.addon;
  loadedFrom.cpu = r.path;
  return cpuAddon;
}

function noAddonReport(reason: string): GpuReport {
  return {
    addonLoaded: false, driverRelease: loaderHooks.driverRelease(), driverCuda: null, runtimeCuda: null,
    requiredDriver: null, builtArchs: [], devices: [], problem: reason,
  };
}

/** The CUDA addon if it loads and its report shows a usable device, else null (with the reason kept). */
export function cudaNative(): NativeAddon | null {
  if (cudaAddon !== undefined) return cudaAddon;
  const r = loadBinary<NativeAddon>('cuda', packageVersion(), (a) => a.info().version);
  if (!r.addon) {
    cudaUnavailableReason = cudaMissingReason(r.attempts);
    gpu = noAddonReport(cudaUnavailableReason);
    cudaAddon = null;
    return null;
  }
  loadedFrom.cuda = r.path;
  const report = r.addon.cudaReport as (() => NativeCudaReport) | undefined;
  if (typeof report !== 'function') {
    cudaUnavailableReason = `the CUDA addon at ${r.path} is a stale build without cudaReport(); rebuild it`;
    gpu = noAddonReport(cudaUnavailableReason);
    cudaAddon = null;
    return null;
  }
  gpu = interpretCudaReport(report(), loaderHooks.driverRelease());
  cudaAddon = gpu.problem === undefined ? r.addon : null;
  cudaUnavailableReason = gpu.problem ?? '';
  return cudaAddon;
}

/** Why the CUDA backend is unavailable ('' when it is available or was never probed). */
export function cudaUnavailable(): string {
  cudaNative();
  return cudaUnavailableReason;
}

/** Driver, runtime, architectures and devices as the CUDA addon sees them (probes once). @internal */
export function gpuReport(): GpuReport {
  cudaNative();
  return gpu!;
}

/** Where the addons were loaded from (after they were loaded). @internal */
export function addonPaths(): { cpu?: string; cuda?: string } {
  return { ...loadedFrom };
}

/** Forgets the loaded addons so the next call locates them again (tests with faked loader hooks). @internal */
export function resetNativeForTest(): void {
  cpuAddon = undefined;
  cudaAddon = undefined;
  cudaUnavailableReason = '';
  gpu = undefined;
  delete loadedFrom.cpu;
  delete loadedFrom.cuda;
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
