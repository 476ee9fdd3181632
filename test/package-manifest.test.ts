// The manifest a user installs: at most 2 runtime dependencies (plotting and the ONNX runtime are optional peers),
// an exports map that hides the internals (only `lengthwise`, `lengthwise/onnx` and `lengthwise/package.json`
// resolve) while the CLI still runs, docs/ shipped, and source maps that carry their sources.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  exports: Record<string, unknown>;
  files: string[];
  bin: Record<string, string>;
}
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { publishManifest } = require('../scripts/pack-lib') as { publishManifest(m: unknown, packed: unknown[]): Manifest };

test('at most 2 runtime dependencies, in the checkout and in the published manifest; no plotting library', () => {
  for (const m of [pkg, publishManifest(pkg, [])]) {
    const deps = Object.keys(m.dependencies ?? {});
    expect(deps.length).toBeLessThanOrEqual(2);
    for (const d of deps) expect(d).not.toMatch(/vega|resvg|canvas|plotly|d3|onnxruntime/);
  }
  // node-addon-api stays: `npx lengthwise build` compiles the shipped sources against it (header-only, no deps)
  expect(pkg.dependencies).toHaveProperty('node-addon-api');
});

test('plotting and ONNX are optional peers (never installed by themselves), and the tests have them', () => {
  for (const name of ['@resvg/resvg-js', 'onnxruntime-node', 'llama-tokenizer-js']) {
    expect(pkg.peerDependencies).toHaveProperty(name);
    expect(pkg.peerDependenciesMeta?.[name]?.optional).toBe(true);
    expect(pkg.devDependencies).toHaveProperty(name);
  }
  // the message of `--plot x.png` names exactly this package
  expect(fs.readFileSync(path.join(ROOT, 'lib', 'cli', 'fitPlot.ts'), 'utf8')).toContain("'npm install @resvg/resvg-js'");
});

test('exports: the entry points, the ONNX subpath and package.json only; docs/ ships', () => {
  expect(Object.keys(pkg.exports).sort()).toEqual(['.', './onnx', './package.json']);
  expect(pkg.files).toEqual(expect.arrayContaining(['dist/', 'docs/', 'data/']));
  expect(pkg.bin.lengthwise).toBe('dist/cli.js');
});

const built = fs.existsSync(path.join(ROOT, 'dist', 'index.js'));

(built ? test : test.skip)('as an installed package: internals refused, entry points and the CLI work (built dist/)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-exports-'));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'lengthwise'), 'dir');
    const probe = `
      const out = {};
      for (const id of ['lengthwise', 'lengthwise/onnx', 'lengthwise/package.json', 'lengthwise/dist/runtime/native',
                        'lengthwise/dist/cli/fitPlot', 'lengthwise/lib/index.ts']) {
        try { require.resolve(id); out[id] = 'ok'; } catch (e) { out[id] = e.code; }
      }
      out.toBfloat16 = typeof require('lengthwise').toBfloat16;
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      lengthwise: 'ok',
      'lengthwise/onnx': 'ok',
      'lengthwise/package.json': 'ok',
      'lengthwise/dist/runtime/native': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'lengthwise/dist/cli/fitPlot': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'lengthwise/lib/index.ts': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      toBfloat16: 'function',
    });
    // the bin is a file path, not an export: the CLI runs
    const cli = spawnSync(process.execPath, [path.join(dir, 'node_modules', 'lengthwise', 'dist', 'cli.js'), 'fit', '--help'], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/--plot/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

(built ? test : test.skip)('source maps carry their sources (the package ships dist/, not lib/)', () => {
  for (const f of ['index.js.map', path.join('cli', 'fitPlot.js.map'), path.join('runtime', 'dtype.js.map')]) {
    const file = path.join(ROOT, 'dist', f);
    const map = JSON.parse(fs.readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    expect(map.sourcesContent).toHaveLength(map.sources.length);
    for (const c of map.sourcesContent!) expect(typeof c === 'string' && c.length > 0).toBe(true);
  }
});
