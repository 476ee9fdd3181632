import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runFit, demoFit, runsFromCsv } from '../lib/cli/fit';
import { scaling } from '../lib';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await runFit(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const CHINCHILLA = path.join(__dirname, '..', 'data', 'scaling', 'chinchilla_epoch_svg_extracted.csv');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-fit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('lengthwise fit', () => {
  test('table on the bundled Chinchilla table (compute column, 5 highest losses dropped)', async () => {
    const r = await capture([CHINCHILLA, '--drop-outliers', '5', '--bootstrap', '50', '--seed', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/240 runs .*\(245 rows, 5 dropped\)/);
    expect(r.out).toMatch(/alpha\s+0\.3473/);
    expect(r.out).toMatch(/95% interval/);
    expect(r.out).toMatch(/tokens\/param/);
  });

  test('--json, column options, filters and an outlier column', async () => {
    const csv = path.join(dir, 'runs.csv');
    const d = scaling.chinchillaRuns();
    const lines = ['src,Params,Tokens,bad,final_loss'];
    for (let i = 0; i < d.N.length; i++) lines.push(`a,${d.N[i]},${d.D[i]},${i === 0 ? 'True' : 'False'},${d.loss[i]}`);
    lines.push('b,1e9,1e10,False,9.9');
    fs.writeFileSync(csv, lines.join('\n') + '\n');
    const r = await capture([csv, '--n-col', 'params', '--d-col', 'tokens', '--loss-col', 'final_loss', '--filter', 'src=a',
      '--drop-outliers', 'bad', '--objective', 'mse', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.runs).toBe(239);
    expect(j.dropped).toBe(2);
    expect(j.objective).toBe('mse');
    expect(j.params.alpha).toBeGreaterThan(0.2);
    expect(j.computeOptimal.tokensPerParam).toBeGreaterThan(1);
  });

  test('usage errors exit with 2 and say what is wrong', async () => {
    expect((await capture([])).code).toBe(2);
    const missing = await capture([path.join(dir, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read/);
    const badCol = await capture([CHINCHILLA, '--loss-col', 'nope']);
    expect(badCol.err).toMatch(/no column 'nope'/);
    expect((await capture([CHINCHILLA, '--law', 'x'])).err).toMatch(/--law must be one of/);
    const neg = path.join(dir, 'neg.csv');
    fs.writeFileSync(neg, 'N,D,loss\n1e9,1e10,-2\n');
    expect((await capture([neg])).err).toMatch(/line 2: loss '-2'/);
    expect((await capture(['--help'])).code).toBe(0);
  });

  test('runsFromCsv derives D from compute', () => {
    const r = runsFromCsv('N,C,loss\n10,600,3\n', { cCol: 'C' });
    expect(r.D[0]).toBe(10);
  });

  test('demo text', async () => {
    const text = await demoFit();
    expect(text).toMatch(/Chinchilla approach 3 on 240 runs/);
    expect(text).toMatch(/std err/);
  });
  // The figure (--plot): test/fit-plot.test.ts.
});
