/**
 * The platform this process runs on, named as the prebuilt packages are (platforms.json): `linux-x64-gnu`,
 * `linux-arm64-gnu`, `win32-x64`, `darwin-arm64`, …; the CUDA part is `cuda-<os>-<arch>`.
 *
 * @packageDocumentation
 */
import * as path from 'path';

/** The package root (dist/.. or lib/..). @internal */
export const packageRoot = path.join(__dirname, '..', '..');

/** 'gnu' or 'musl' on Linux (from the process report, as detect-libc does), '' elsewhere. @internal */
export function hostLibc(): '' | 'gnu' | 'musl' {
  if (process.platform !== 'linux') return '';
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** The CPU part's id for this process, e.g. 'linux-x64-gnu'. @internal */
export function hostCpuTarget(): string {
  const libc = hostLibc();
  return `${process.platform}-${process.arch}${libc ? '-' + libc : ''}`;
}

/** The CUDA part's id for this process, e.g. 'cuda-linux-x64'. @internal */
export function hostCudaTarget(): string {
  return `cuda-${process.platform}-${process.arch}`;
}

/** The npm package that carries a prebuilt part. @internal */
export function packageName(targetId: string): string {
  return `lengthwise-${targetId}`;
}
