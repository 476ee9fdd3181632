/**
 * The one declaration of the native surface (lib/runtime/addonTypes.ts) against the addon that is actually loaded: every
 * declared function exists, and every function the addon exports is declared (a new export without a declaration,
 * or a renamed one, fails here; a renamed declaration fails `tsc` at its callers).
 */
import type { AddonFunctions, CudaOnlyFunctions } from '../lib/runtime/addonTypes';
import { cpuNative, cudaNative } from '../lib/runtime/native';

// `satisfies` makes the compiler check this list against the declaration: a missing or extra name is a type error.
const DECLARED = Object.keys({
  info: 1, cudaReport: 1, devices: 1, deviceUpload: 1, deviceWrap: 1, devicePointer: 1, logitStats: 1, xl3mScore: 1,
  xl3mPush: 1, xl3mInit: 1, xl3mFinish: 1, scalingFit: 1, scalingPredict: 1, scalingComputeOptimal: 1,
  scalingTraining: 1, verifyTree: 1, treeUtils: 1, multidraftOptimal: 1, _processedDistribution: 1, _benchReadMemory: 1,
  _hostTimings: 1,
} satisfies Record<keyof AddonFunctions, 1>);
const CUDA_ONLY = Object.keys({ _benchCopy: 1, _benchLogitStats: 1 } satisfies Record<keyof CudaOnlyFunctions, 1>);
const CLASSES = ['DeviceBuffer'];

function exportedFunctions(addon: object): string[] {
  return Object.keys(addon).filter((k) => typeof (addon as Record<string, unknown>)[k] === 'function');
}

test.each([
  ['cpu', () => cpuNative()],
  ['cuda', () => cudaNative()],
] as const)('the %s addon exports exactly the declared surface', (_name, load) => {
  const addon = load();
  if (addon === null) return; // no CUDA addon on this machine: nothing to compare
  const exported = exportedFunctions(addon).sort();
  const want = [...DECLARED, ...CLASSES, ...CUDA_ONLY].sort();
  expect(exported).toEqual(want);
});
