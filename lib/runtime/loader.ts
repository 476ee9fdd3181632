/**
 * Finds and loads the native binaries. Candidates, first that loads wins:
 *   CPU:  <package>/build/Release/lengthwise.node       (a checkout, or `npx lengthwise build` in an install)
 *         lengthwise-<os>-<arch>[-gnu|-musl]/lengthwise.node (the prebuilt optional dependency)
 *         <package>/prebuilds/<id>/lengthwise.node       (a checkout after `npm run prebuild` / cross builds)
 *   CUDA: the same three with cuda/build/Release, lengthwise-cuda-<os>-<arch> and prebuilds/cuda-<os>-<arch>.
 * A candidate that exists but fails to load (another platform's binary, another version) is skipped with its reason
 * kept, so the final error lists everything tried.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import { readDriverRelease } from './gpuReport';
import { hostCpuTarget, hostCudaTarget, packageName, packageRoot } from './platform';

/** What one load attempt found. @internal */
export interface Attempt {
  path: string;
  why: string;
}

/** The replaceable parts of the loader (tests swap them to fake machines). @internal */
export interface LoaderHooks {
  exists(file: string): boolean;
  requireBinary(file: string): unknown;
  resolvePackageFile(pkg: string, file: string): string | null;
  /** The NVIDIA kernel module's release, e.g. '550.54.15' (null when there is none). */
  driverRelease(): string | null;
}

function resolvePackageFile(pkg: string, file: string): string | null {
  try {
    return require.resolve(`${pkg}/${file}`, { paths: [packageRoot] });
  } catch {
    return null;
  }
}

const defaultHooks: LoaderHooks = {
  exists: (file) => fs.existsSync(file),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  requireBinary: (file) => require(file),
  resolvePackageFile,
  driverRelease: () => readDriverRelease(),
};

/** The hooks in use (tests replace members and call {@link resetLoaderHooks} after). @internal */
export const loaderHooks: LoaderHooks = { ...defaultHooks };

/** Restores the real hooks. @internal */
export function resetLoaderHooks(): void {
  Object.assign(loaderHooks, defaultHooks);
}

function candidates(kind: 'cpu' | 'cuda'): string[] {
  const id = kind === 'cpu' ? hostCpuTarget() : hostCudaTarget();
  const file = kind === 'cpu' ? 'lengthwise.node' : 'lengthwise_cuda.node';
  const buildDir = kind === 'cpu' ? path.join(packageRoot, 'build', 'Release') : path.join(packageRoot, 'cuda', 'build', 'Release');
  const fromPackage = loaderHooks.resolvePackageFile(packageName(id), file);
  return [
    path.join(buildDir, file),
    fromPackage ?? `${packageName(id)}/${file} (package not installed)`,
    path.join(packageRoot, 'prebuilds', id, file),
  ];
}

/**
 * Loads the first candidate that exists and loads, checking it reports `version`. Returns the addon and its path,
 * or null with every attempt.
 * @internal
 */
export function loadBinary<T>(
  kind: 'cpu' | 'cuda',
  version: string,
  versionOf: (addon: T) => string,
): { addon: T; path: string } | { addon: null; attempts: Attempt[] } {
  const attempts: Attempt[] = [];
  for (const file of candidates(kind)) {
    if (!path.isAbsolute(file) || !loaderHooks.exists(file)) {
      attempts.push({ path: file, why: 'not found' });
      continue;
    }
    try {
      const addon = loaderHooks.requireBinary(file) as T;
      const v = versionOf(addon);
      if (v !== version) {
        attempts.push({ path: file, why: `it is version ${v}, this package is ${version}` });
        continue;
      }
      return { addon, path: file };
    } catch (err) {
      attempts.push({ path: file, why: (err instanceof Error ? err.message : String(err)).split('\n')[0]! });
    }
  }
  return { addon: null, attempts };
}

interface Manifest {
  version: string;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function manifest(): Manifest {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(packageRoot, 'package.json')) as Manifest;
}

/** The package's own version (the binaries must match it). @internal */
export function packageVersion(): string {
  return manifest().version;
}

/** Whether this release ships a prebuilt part for `id` (the published manifest lists each packed part). @internal */
export function partPublished(id: string): boolean {
  const m = manifest();
  const name = packageName(id);
  return name in (m.optionalDependencies ?? {}) || name in (m.peerDependencies ?? {});
}

/** The error for a CPU addon that cannot be loaded: what was tried, why, and fixes that work. @internal */
export function cpuLoadError(attempts: Attempt[]): Error {
  const id = hostCpuTarget();
  const published = partPublished(id);
  const tried = attempts.map((a) => `    ${a.path}: ${a.why}`).join('\n');
  const fixes = published
    ? `  fix: install the prebuilt part for this platform: \`npm install ${packageName(id)}\` (it is an optional ` +
      `dependency; --omit=optional, --no-optional or a lockfile made on another OS leave it out), or build from source ` +
      `with \`npx lengthwise build\` (needs python3, make and a C++17 compiler).`
    : `  fix: this install has no prebuilt binary for ${id}; build from source with \`npx lengthwise build\` ` +
      `(in a checkout: \`npm run build:native\`; needs python3, make and a C++17 compiler; README, "Support matrix").`;
  return new Error(`lengthwise: could not load the native CPU addon for ${id}.\n  tried:\n${tried}\n${fixes}`);
}

/** One line on why no CUDA addon was found. @internal */
export function cudaMissingReason(attempts: Attempt[]): string {
  const loadFailures = attempts.filter((a) => a.why !== 'not found');
  const pkg = packageName(hostCudaTarget());
  if (loadFailures.length > 0) {
    return `the CUDA addon did not load (${loadFailures.map((a) => `${a.path}: ${a.why}`).join('; ')})`;
  }
  const reason = partPublished(hostCudaTarget())
    ? `no CUDA addon installed: CUDA is a separate part, \`npm install ${pkg}\` (needs an NVIDIA driver), or ` +
        '`npx lengthwise build --cuda` where nvcc exists'
    : `no CUDA addon: this install has no prebuilt CUDA part for ${process.platform}-${process.arch}; ` +
        'build it where nvcc exists with `npx lengthwise build --cuda` (in a checkout: `npm run build:cuda`)';
  // Without the addon nothing can ask libcuda, but on Linux the kernel module's file says whether a driver exists.
  return process.platform === 'linux' && loaderHooks.driverRelease() === null
    ? `${reason}; no NVIDIA driver here either (no /proc/driver/nvidia), so CUDA could not run on this machine`
    : reason;
}
