/**
 * backendInfo(): which backend calls run on and what the machine offers.
 *
 * @packageDocumentation
 */
import type { GpuReport } from './gpuReport';
import { addonPaths, cpuNative, cudaNative, cudaUnavailable, gpuReport, resolveBackend, BackendName } from './native';

export type { GpuDevice, GpuReport } from './gpuReport';

/** A CUDA device as seen by the CUDA addon. */
export interface DeviceInfo {
  /** Device name as CUDA reports it, e.g. 'NVIDIA H200'. */
  name: string;
  /** Total device memory in bytes. */
  memoryBytes: number;
  /** e.g. '9.0' for Hopper. */
  computeCapability: string;
}

/** What {@link backendInfo} reports. */
export interface BackendInfo {
  /** Backend used by calls without an explicit `backend` option. */
  backend: BackendName;
  /** Visible CUDA devices (empty without the CUDA addon or a GPU). */
  devices: DeviceInfo[];
  /** Threads in the native CPU pool (LENGTHWISE_THREADS overrides). */
  threads: number;
  /** SIMD path of the CPU kernels: 'avx512', 'avx2' or 'scalar' (LENGTHWISE_SIMD caps it). */
  simd: string;
  /** Package version. */
  version: string;
  /**
   * Why the CUDA backend cannot be used (absent when it can). With `LENGTHWISE_BACKEND=cuda` and this set,
   * `backend` is 'cuda' and calls without a `backend` option reject with this reason.
   */
  cudaUnavailable?: string;
  /** The CUDA side in detail: driver, the CUDA runtime the addon needs, built architectures vs each device. */
  gpu: GpuReport;
  /** Files the addons were loaded from (`cuda` only when the CUDA addon loaded). */
  addons: { cpu: string; cuda?: string };
}

/** Reports the default backend, devices, CPU threads, SIMD level and version; never throws for a missing GPU. */
export function backendInfo(): BackendInfo {
  const cpu = cpuNative().info();
  const cuda = cudaNative();
  let backend: BackendName;
  try {
    backend = resolveBackend();
  } catch (err) {
    if (err instanceof RangeError) throw err;  // a bad LENGTHWISE_BACKEND value
    backend = 'cuda';  // requested but unavailable: cudaUnavailable says why
  }
  const info: BackendInfo = {
    backend,
    devices: cuda ? cuda.devices().devices : [],
    threads: cpu.threads,
    simd: cpu.simd,
    version: cpu.version,
    gpu: gpuReport(),
    addons: addonPaths() as { cpu: string; cuda?: string },
  };
  if (!cuda) info.cudaUnavailable = cudaUnavailable();
  return info;
}
