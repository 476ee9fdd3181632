// Packaging rules (scripts/pack-lib.js) and the real `npm pack` refusal: a pack missing an expected binary fails and
// names it. The pack runs in a scratch copy of the packaging files, never in the checkout (prepack swaps package.json).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require('../scripts/pack-lib') as {
  expectedTargets(targets: Target[], o: { hostCpu: string; hostCuda: string; cudaWanted: boolean; extra?: string }): Target[];
  missingBinaries(dir: string, expected: Target[]): string[];
  partManifest(main: Record<string, unknown>, t: Target): Record<string, unknown>;
  publishManifest(main: Record<string, unknown>, packed: Target[]): Record<string, unknown>;
};
interface Target { id: string; kind: string; os: string; cpu: string; libc?: string; file: string; built: string }

const ROOT = path.join(__dirname, '..');
const { targets } = JSON.parse(fs.readFileSync(path.join(ROOT, 'platforms.json'), 'utf8')) as { targets: Target[] };
const byId = (id: string) => targets.find((t) => t.id === id)!;
const host = { hostCpu: 'linux-x64-gnu', hostCuda: 'cuda-linux-x64' };

test('expected binaries: the host CPU part, CUDA only when the checkout builds it, release extras, unknown ids refused', () => {
  expect(lib.expectedTargets(targets, { ...host, cudaWanted: false }).map((t) => t.id)).toEqual(['linux-x64-gnu']);
  expect(lib.expectedTargets(targets, { ...host, cudaWanted: true }).map((t) => t.id)).toEqual(['linux-x64-gnu', 'cuda-linux-x64']);
  expect(lib.expectedTargets(targets, { ...host, cudaWanted: false, extra: 'linux-arm64-gnu, win32-x64' }).map((t) => t.id))
    .toEqual(['linux-x64-gnu', 'linux-arm64-gnu', 'win32-x64']);
  expect(lib.expectedTargets(targets, { ...host, cudaWanted: false, extra: 'all' })).toHaveLength(targets.length);
  expect(() => lib.expectedTargets(targets, { ...host, cudaWanted: false, extra: 'linux-riscv64-gnu' }))
    .toThrow(/linux-riscv64-gnu not in platforms\.json/);
});

test('missing binaries are named one by one, with how to build each', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-prebuilds-'));
  fs.mkdirSync(path.join(dir, 'linux-x64-gnu'));
  fs.writeFileSync(path.join(dir, 'linux-x64-gnu', 'lengthwise.node'), 'x');
  const expected = ['linux-x64-gnu', 'cuda-linux-x64', 'linux-arm64-gnu'].map(byId);
  const missing = lib.missingBinaries(dir, expected);
  expect(missing).toHaveLength(2);
  expect(missing[0]).toMatch(/^prebuilds\/cuda-linux-x64\/lengthwise_cuda\.node \(the CUDA addon .*npm run build:cuda/);
  expect(missing[1]).toMatch(/^prebuilds\/linux-arm64-gnu\/lengthwise\.node \(the CPU addon .*scripts\/cross-build\.js linux-arm64-gnu/);
  fs.rmSync(dir, { recursive: true });
});

test('manifests: parts carry os/cpu/libc; the published main has no lifecycle scripts, CPU parts optional, CUDA an optional peer', () => {
  const main = { name: 'lengthwise', version: '1.2.3', license: 'MIT', scripts: { prepare: 'x', prepack: 'y' },
    devDependencies: { jest: '1' }, dependencies: { 'node-addon-api': '^8' }, gypfile: false };
  const cpu = lib.partManifest(main, byId('linux-x64-gnu'));
  expect(cpu).toMatchObject({ name: 'lengthwise-linux-x64-gnu', version: '1.2.3', os: ['linux'], cpu: ['x64'], libc: ['glibc'], files: ['lengthwise.node'] });
  expect(cpu.scripts).toBeUndefined();
  expect(lib.partManifest(main, byId('win32-x64')).libc).toBeUndefined();
  expect(lib.partManifest(main, byId('cuda-linux-x64'))).toMatchObject({ peerDependencies: { lengthwise: '1.2.3' } });
  const pub = lib.publishManifest(main, ['linux-x64-gnu', 'linux-arm64-gnu', 'cuda-linux-x64'].map(byId));
  expect(pub.scripts).toBeUndefined();
  expect(pub.devDependencies).toBeUndefined();
  expect(pub.gypfile).toBe(false); // binding.gyp ships for source builds; npm must not run node-gyp on install
  expect(pub.optionalDependencies).toEqual({ 'lengthwise-linux-x64-gnu': '1.2.3', 'lengthwise-linux-arm64-gnu': '1.2.3' });
  expect(pub.peerDependencies).toEqual({ 'lengthwise-cuda-linux-x64': '1.2.3' });
  expect(pub.peerDependenciesMeta).toEqual({ 'lengthwise-cuda-linux-x64': { optional: true } });
  expect(main.scripts).toEqual({ prepare: 'x', prepack: 'y' }); // the checkout's manifest is not modified
});

// The real refusal: npm pack in a scratch copy with the CPU binary but not an expected cross-built one.
const built = path.join(ROOT, 'build', 'Release', 'lengthwise.node');
const canPack = fs.existsSync(built) && fs.existsSync(path.join(ROOT, 'dist', 'runtime', 'platform.js')) && process.platform === 'linux';
(canPack ? test : test.skip)('npm pack refuses without an expected binary, naming it; with it, packs a part per binary', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-pack-'));
  for (const f of ['package.json', 'platforms.json', 'LICENSE', 'scripts/pack.js', 'scripts/pack-lib.js', 'scripts/prebuild.js',
    'scripts/build-cuda.js', 'dist/runtime/platform.js']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(built, path.join(dir, 'build', 'Release', 'lengthwise.node'));
  const checkoutManifest = fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
  const env = { ...process.env, LENGTHWISE_CUDA: '0', LENGTHWISE_PACK_TARGETS: 'linux-arm64-gnu' };
  const pack = () => spawnSync('npm', ['pack', '--pack-destination', dir], { cwd: dir, env, encoding: 'utf8', timeout: 120000 });

  const refused = pack();
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toMatch(/refusing to pack lengthwise without every expected binary; missing:\n {2}prebuilds\/linux-arm64-gnu\/lengthwise\.node/);
  expect(refused.stderr).not.toMatch(/linux-x64-gnu\/lengthwise\.node \(/); // the present one is not named
  expect(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe(checkoutManifest);
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'))).toEqual([]);

  // A stand-in file for the arm64 binary (its content is not checked here; the qemu run tests the real one).
  fs.mkdirSync(path.join(dir, 'prebuilds', 'linux-arm64-gnu'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'prebuilds', 'linux-arm64-gnu', 'lengthwise.node'), 'stand-in');
  const ok = pack();
  expect(ok.stderr).toMatch(/lengthwise-linux-x64-gnu-\d+\.\d+\.\d+\.tgz \(cpu part for linux-x64-gnu\)/);
  expect(ok.status).toBe(0);
  const tgz = fs.readdirSync(dir).filter((f) => f.endsWith('.tgz')).sort();
  expect(tgz.map((f) => f.replace(/-\d+\.\d+\.\d+\.tgz$/, ''))).toEqual(['lengthwise', 'lengthwise-linux-arm64-gnu', 'lengthwise-linux-x64-gnu']);
  const published = JSON.parse(spawnSync('tar', ['-xzOf', path.join(dir, tgz[0]!), 'package/package.json'], { encoding: 'utf8' }).stdout) as Record<string, unknown>;
  expect(published.scripts).toBeUndefined();
  expect(Object.keys(published.optionalDependencies as object).filter((k) => k.startsWith('lengthwise-')).sort()).toEqual(['lengthwise-linux-arm64-gnu', 'lengthwise-linux-x64-gnu']);
  expect(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe(checkoutManifest); // postpack restored it
  fs.rmSync(dir, { recursive: true });
});
