// TSDoc coverage of the public API (scripts/tsdoc-coverage.js, TypeScript compiler API over lib/index.ts and
// lib/onnx/index.ts): every exported symbol and every member of an exported interface, object type or class has a
// doc comment. The checker itself is checked on a fixture with known gaps.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const script = path.join(__dirname, '..', 'scripts', 'tsdoc-coverage.js');
const run = (...args: string[]) => spawnSync(process.execPath, [script, '--json', ...args], { encoding: 'utf8' });

test('every public symbol and member of lengthwise and lengthwise/onnx is documented', () => {
  const r = run();
  const out = JSON.parse(r.stdout) as { documented: number; total: number; missing: string[] };
  expect(out.missing).toEqual([]);
  expect(out.total).toBeGreaterThan(450);
  expect(r.status).toBe(0);
});

test('the checker finds undocumented exports, members, namespaces and object-type members; @internal is skipped', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-tsdoc-'));
  try {
    fs.writeFileSync(path.join(dir, 'ns.ts'), '/** A namespace. @packageDocumentation */\n/** Doc. */\nexport const a = 1;\nexport const b = 2;\n');
    fs.writeFileSync(path.join(dir, 'index.ts'), [
      "export * as ns from './ns';",
      '/** Doc. */',
      'export interface I {',
      '  /** Doc. */',
      '  x: number;',
      '  y: number;',
      '  /** @internal */',
      '  z: number;',
      '}',
      'export function f(): void {}',
      '/** Doc. */',
      'export type T = { u: string } & {',
      '  /** Doc. */',
      '  v: string;',
      '};',
      '/** Doc. */',
      'export class K {',
      '  /** Doc. */',
      '  m(): void {}',
      '  n(): void {}',
      '  private p = 1;',
      '}',
      '/** @internal */',
      'export function hidden(): void {}',
    ].join('\n'));
    const r = run('--entry', path.join(dir, 'index.ts'));
    const out = JSON.parse(r.stdout) as { missing: string[] };
    expect(out.missing.sort()).toEqual(['I.y', 'K.n', 'T.u', 'f', 'ns.b'].sort());
    expect(r.status).toBe(1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
