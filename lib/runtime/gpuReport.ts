/**
 * What the CUDA addon reports about the machine (a plain object, so tests can feed fakes) and its reading: driver
 * present? new enough for the CUDA runtime the addon links? each device's compute capability covered by the
 * architectures the addon was built for? Each failure gets its own sentence a person can act on.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';

/** The CUDA addon's raw report (native `cudaReport()`). @internal */
export interface NativeCudaReport {
  /** CUDA runtime the addon links, as CUDART_VERSION (13000 = 13.0). */
  runtimeVersion: number;
  /** CUDA version the installed driver supports (cudaDriverGetVersion); 0 when no driver could be loaded. */
  driverVersion: number;
  /** CMAKE_CUDA_ARCHITECTURES of the build, e.g. '80-real,90-real,90-virtual'. */
  archs: string;
  /** cudaGetDeviceCount's error name ('' when it succeeded), e.g. 'cudaErrorInsufficientDriver'. */
  error: string;
  /** cudaGetErrorString of that error ('' when none). */
  errorMessage: string;
  devices: { name: string; memoryBytes: number; computeCapability: string }[];
}

/** A CUDA device and whether this build can run on it. */
export interface GpuDevice {
  /** Device index as CUDA numbers it (after CUDA_VISIBLE_DEVICES). */
  index: number;
  /** Device name as CUDA reports it, e.g. 'NVIDIA H200'. */
  name: string;
  /** Total device memory in bytes. */
  memoryBytes: number;
  /** e.g. '9.0' for Hopper. */
  computeCapability: string;
  /** True when the build holds code this device can run (real code of its major version, or PTX at or below it). */
  supported: boolean;
}

/** The CUDA side of {@link BackendInfo}: what was found and, when CUDA cannot be used, why. */
export interface GpuReport {
  /** Whether a CUDA addon was found and loaded at all. */
  addonLoaded: boolean;
  /** The NVIDIA driver release, e.g. '580.95.05' (from /proc/driver/nvidia/version; null when unknown). */
  driverRelease: string | null;
  /** CUDA version the driver supports, e.g. '12.4' (null without a driver or addon). */
  driverCuda: string | null;
  /** CUDA runtime the addon was built with, e.g. '13.0' (null without the addon). */
  runtimeCuda: string | null;
  /** Oldest driver branch that runtime needs on Linux, e.g. '580' (null without the addon). */
  requiredDriver: string | null;
  /** Architectures the addon carries: 'sm_80' (real code), 'compute_90' (PTX, JIT-compiled for newer GPUs). */
  builtArchs: string[];
  /** Every visible CUDA device, usable or not (empty without a driver or addon). */
  devices: GpuDevice[];
  /** Why CUDA cannot be used; absent when it can. */
  problem?: string;
}

// Oldest Linux driver branch for each CUDA runtime major (NVIDIA's CUDA Toolkit release notes, table 2/3: minor
// version compatibility lets any 12.x runtime run on r525, 13.x needs r580).
const REQUIRED_DRIVER: Record<number, string> = { 11: '450', 12: '525', 13: '580' };

function cudaVersionText(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

/** 'sm_80' / 'compute_90' from CMake's '80-real' / '90-virtual' / '90' (both). @internal */
export function parseArchs(archs: string): string[] {
  const out: string[] = [];
  for (const a of archs.split(/[,;\s]+/).filter(Boolean)) {
    const m = /^(\d+)[a-z]?(?:-(real|virtual))?$/.exec(a);
    if (!m) continue;
    if (m[2] !== 'virtual') out.push(`sm_${m[1]}`);
    if (m[2] !== 'real') out.push(`compute_${m[1]}`);
  }
  return out;
}

/** Whether code built for `archs` runs on a device of compute capability `cc` ('8.6'). @internal */
export function capabilitySupported(cc: string, archs: string[]): boolean {
  const [major, minor] = cc.split('.').map(Number) as [number, number];
  const dev = major * 10 + minor;
  return archs.some((a) => {
    const n = Number(a.replace(/^(sm|compute)_/, ''));
    // SASS runs on the same major version at an equal or higher minor; PTX JIT-compiles for any newer device.
    if (a.startsWith('sm_')) return Math.floor(n / 10) === major && n % 10 <= minor;
    return n <= dev;
  });
}

function describeArchs(archs: string[]): string {
  const real = archs.filter((a) => a.startsWith('sm_'));
  const ptx = archs.filter((a) => a.startsWith('compute_'));
  const parts = [];
  if (real.length) parts.push(`real code for ${real.join(', ')}`);
  if (ptx.length) parts.push(`PTX for ${ptx.join(', ')}`);
  const lowest = Math.min(...archs.map((a) => Number(a.replace(/^(sm|compute)_/, ''))));
  return `${parts.join(' and ')}; needs compute capability ${Math.floor(lowest / 10)}.${lowest % 10} or newer`;
}

/** The driver release from the kernel module ('550.54.15'), or null where that file does not exist. @internal */
export function readDriverRelease(file = '/proc/driver/nvidia/version'): string | null {
  try {
    const m = /Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(fs.readFileSync(file, 'utf8'));
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/**
 * Reads a native report. `driverRelease` is the kernel module's release (null when unknown), passed in so tests
 * can fake a machine.
 * @internal
 */
export function interpretCudaReport(r: NativeCudaReport, driverRelease: string | null): GpuReport {
  const builtArchs = parseArchs(r.archs);
  const runtimeMajor = Math.floor(r.runtimeVersion / 1000);
  const requiredDriver = REQUIRED_DRIVER[runtimeMajor] ?? null;
  const runtimeCuda = cudaVersionText(r.runtimeVersion);
  const devices: GpuDevice[] = r.devices.map((d, index) => ({
    index,
    ...d,
    supported: capabilitySupported(d.computeCapability, builtArchs),
  }));
  const report: GpuReport = {
    addonLoaded: true,
    driverRelease,
    driverCuda: r.driverVersion > 0 ? cudaVersionText(r.driverVersion) : null,
    runtimeCuda,
    requiredDriver,
    builtArchs,
    devices,
  };
  const build = `this CUDA ${runtimeCuda} build`;
  if (r.driverVersion === 0) {
    report.problem =
      'no NVIDIA driver: the CUDA driver library (libcuda) could not be loaded, so there is no usable NVIDIA GPU ' +
      'here (or the container does not expose it); lengthwise runs on the CPU';
  } else if (r.error === 'cudaErrorInsufficientDriver' || Math.floor(r.driverVersion / 1000) < runtimeMajor) {
    const have = driverRelease
      ? `driver ${driverRelease.split('.')[0]} (${driverRelease}, CUDA ${report.driverCuda})`
      : `the NVIDIA driver (CUDA ${report.driverCuda})`;
    report.problem =
      `${have} < ${requiredDriver ?? `a CUDA ${runtimeCuda} driver`} required by ${build}: ` +
      `update the NVIDIA driver${requiredDriver ? ` to r${requiredDriver} or newer` : ''}; lengthwise runs on the CPU`;
  } else if (r.error === 'cudaErrorNoDevice' || (r.error === '' && devices.length === 0)) {
    const visible = process.env.CUDA_VISIBLE_DEVICES;
    report.problem =
      `the NVIDIA driver${driverRelease ? ' ' + driverRelease : ''} is loaded but no CUDA device is visible` +
      (visible !== undefined ? ` (CUDA_VISIBLE_DEVICES='${visible}')` : '');
  } else if (r.error !== '') {
    report.problem = `the CUDA runtime reports ${r.error}: ${r.errorMessage}`;
  } else {
    const bad = devices.filter((d) => !d.supported);
    if (bad.length > 0) {
      const list = bad.map((d) => `${d.computeCapability} (device ${d.index}, ${d.name})`).join(', ');
      report.problem =
        `compute capability ${list} not supported: ${build} has ${describeArchs(builtArchs)}` +
        (bad.length < devices.length ? '; hide it with CUDA_VISIBLE_DEVICES' : '');
    }
  }
  return report;
}
