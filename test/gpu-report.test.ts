// GPU honesty: each way CUDA can be unusable gets its own sentence. Fake machines go through the real loader (its
// hooks serve a fake CUDA addon and a fake driver release), so backendInfo(), resolveBackend() and the CLI text are
// the ones a user would see. The last test runs the real CUDA addon on this machine when there is no NVIDIA driver.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { backendInfo } from '../lib/runtime/backend';
import { capabilitySupported, parseArchs, type NativeCudaReport } from '../lib/runtime/gpuReport';
import { loaderHooks, resetLoaderHooks } from '../lib/runtime/loader';
import { resetNativeForTest, resolveBackend } from '../lib/runtime/native';

const ROOT = path.join(__dirname, '..');
const CUDA_BUILD = path.join(ROOT, 'cuda', 'build', 'Release', 'lengthwise_cuda.node');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const H200 = { name: 'NVIDIA H200', memoryBytes: 150 * 2 ** 30, computeCapability: '9.0' };
const ARCHS = '80-real,90-real,90-virtual';

function fakeMachine(report: NativeCudaReport, driverRelease: string | null, version = VERSION): void {
  const realExists = loaderHooks.exists;
  const realRequire = loaderHooks.requireBinary;
  const fake = {
    info: () => ({ threads: 1, simd: 'scalar', version, cuda: true }),
    devices: () => ({ compiled: true, status: 'ok', devices: report.devices }),
    cudaReport: () => report,
  };
  // Only the fake is a CUDA candidate: a real CUDA part or prebuild on this machine must not stand in for it.
  loaderHooks.exists = (f) => (f === CUDA_BUILD ? true : f.endsWith('lengthwise_cuda.node') ? false : realExists(f));
  loaderHooks.requireBinary = (f) => (f === CUDA_BUILD ? fake : realRequire(f));
  loaderHooks.driverRelease = () => driverRelease;
  resetNativeForTest();
}

afterEach(() => {
  resetLoaderHooks();
  resetNativeForTest();
});

const base: NativeCudaReport = { runtimeVersion: 13000, driverVersion: 13000, archs: ARCHS, error: '', errorMessage: '', devices: [H200] };

test('a usable GPU: auto picks CUDA and the report shows driver, runtime, required driver and archs', () => {
  fakeMachine(base, '580.95.05');
  expect(resolveBackend()).toBe('cuda');
  const i = backendInfo();
  expect(i.cudaUnavailable).toBeUndefined();
  expect(i.gpu).toEqual({
    addonLoaded: true, driverRelease: '580.95.05', driverCuda: '13.0', runtimeCuda: '13.0', requiredDriver: '580',
    builtArchs: ['sm_80', 'sm_90', 'compute_90'], devices: [{ index: 0, ...H200, supported: true }],
  });
});

test('driver too old for the CUDA 13 build: names both versions, falls back to the CPU, explicit cuda throws it', () => {
  fakeMachine({ ...base, driverVersion: 12040, error: 'cudaErrorInsufficientDriver',
    errorMessage: 'CUDA driver version is insufficient for CUDA runtime version', devices: [] }, '550.54.15');
  const i = backendInfo();
  expect(i.cudaUnavailable).toMatch(/^driver 550 \(550\.54\.15, CUDA 12\.4\) < 580 required by this CUDA 13\.0 build: update the NVIDIA driver to r580 or newer/);
  expect(i.gpu.driverCuda).toBe('12.4');
  expect(i.gpu.requiredDriver).toBe('580');
  expect(resolveBackend()).toBe('cpu');
  expect(() => resolveBackend('cuda')).toThrow(/backend 'cuda' was requested but driver 550 .*< 580 required/);
});

test('driver too old, release unknown (no /proc file): still says which CUDA it supports and what is needed', () => {
  fakeMachine({ ...base, driverVersion: 12020, error: 'cudaErrorInsufficientDriver', devices: [] }, null);
  expect(backendInfo().cudaUnavailable).toMatch(/^the NVIDIA driver \(CUDA 12\.2\) < 580 required by this CUDA 13\.0 build/);
});

test('unsupported compute capability: names it, the device and the built architectures', () => {
  const t4 = { name: 'Tesla T4', memoryBytes: 16 * 2 ** 30, computeCapability: '7.5' };
  fakeMachine({ ...base, devices: [t4] }, '580.95.05');
  const i = backendInfo();
  expect(i.cudaUnavailable).toBe(
    'compute capability 7.5 (device 0, Tesla T4) not supported: this CUDA 13.0 build has real code for sm_80, sm_90 ' +
      'and PTX for compute_90; needs compute capability 8.0 or newer',
  );
  expect(i.gpu.devices).toEqual([{ index: 0, ...t4, supported: false }]);
  expect(resolveBackend()).toBe('cpu');
  // A supported device beside it: the message says how to hide the old one.
  fakeMachine({ ...base, devices: [H200, t4] }, '580.95.05');
  expect(backendInfo().cudaUnavailable).toMatch(/7\.5 \(device 1, Tesla T4\) not supported.*hide it with CUDA_VISIBLE_DEVICES$/);
});

test('no NVIDIA driver: plain words, not the runtime error string', () => {
  fakeMachine({ ...base, driverVersion: 0, error: 'cudaErrorInsufficientDriver',
    errorMessage: 'CUDA driver version is insufficient for CUDA runtime version', devices: [] }, null);
  const reason = backendInfo().cudaUnavailable!;
  expect(reason).toMatch(/^no NVIDIA driver: /);
  expect(reason).not.toMatch(/insufficient/);
});

test('no CUDA addon at all: says so, and on Linux also whether an NVIDIA driver exists', () => {
  const realExists = loaderHooks.exists;
  loaderHooks.exists = (f) => (f.endsWith('lengthwise_cuda.node') ? false : realExists(f));
  loaderHooks.resolvePackageFile = () => null;
  loaderHooks.driverRelease = () => null;
  resetNativeForTest();
  const none = backendInfo();
  expect(none.cudaUnavailable).toMatch(/^no CUDA addon/);
  expect(none.gpu).toMatchObject({ addonLoaded: false, driverRelease: null });
  if (process.platform === 'linux') expect(none.cudaUnavailable).toMatch(/; no NVIDIA driver here either \(no \/proc\/driver\/nvidia\)/);
  loaderHooks.driverRelease = () => '550.54.15';
  resetNativeForTest();
  const withDriver = backendInfo();
  expect(withDriver.cudaUnavailable).toMatch(/^no CUDA addon/);
  expect(withDriver.cudaUnavailable).not.toMatch(/no NVIDIA driver/);
  expect(withDriver.gpu.driverRelease).toBe('550.54.15');
});

test('driver present, no device visible', () => {
  fakeMachine({ ...base, error: 'cudaErrorNoDevice', errorMessage: 'no CUDA-capable device is detected', devices: [] }, '580.95.05');
  expect(backendInfo().cudaUnavailable).toMatch(/^the NVIDIA driver 580\.95\.05 is loaded but no CUDA device is visible/);
});

test('a CUDA addon of another version is skipped, with the reason kept', () => {
  fakeMachine(base, '580.95.05', '0.0.1');
  expect(backendInfo().cudaUnavailable).toMatch(/the CUDA addon did not load \(.*lengthwise_cuda\.node: it is version 0\.0\.1, this package is /);
});

test('architecture rules: SASS within a major version, PTX for anything newer', () => {
  const archs = parseArchs(ARCHS);
  expect(archs).toEqual(['sm_80', 'sm_90', 'compute_90']);
  expect(parseArchs('75;86')).toEqual(['sm_75', 'compute_75', 'sm_86', 'compute_86']);
  const cases: [string, boolean][] = [['7.0', false], ['7.5', false], ['8.0', true], ['8.6', true], ['8.9', true],
    ['9.0', true], ['10.0', true], ['12.0', true]];
  for (const [cc, ok] of cases) expect([cc, capabilitySupported(cc, archs)]).toEqual([cc, ok]);
  // Without PTX, a newer major has nothing to run.
  expect(capabilitySupported('10.0', ['sm_80', 'sm_90'])).toBe(false);
  expect(capabilitySupported('8.6', ['sm_89'])).toBe(false);
});

const noDriverHere = !fs.existsSync('/proc/driver/nvidia') && fs.existsSync(CUDA_BUILD);
(noDriverHere ? test : test.skip)('this machine (real CUDA addon, no NVIDIA driver): `lengthwise info` says so', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'info'], { encoding: 'utf8', timeout: 60000 });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/cuda: +unavailable \(no NVIDIA driver: /);
  expect(r.stdout).toMatch(/addon built with CUDA \d+\.\d+ \(needs driver >= \d+\), archs (sm|compute)_\d+/);
  const j = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'info', '--json'], { encoding: 'utf8', timeout: 60000 });
  const info = JSON.parse(j.stdout) as { gpu: { addonLoaded: boolean; driverCuda: string | null; problem: string } };
  expect(info.gpu).toMatchObject({ addonLoaded: true, driverCuda: null, problem: expect.stringMatching(/^no NVIDIA driver/) });
});
