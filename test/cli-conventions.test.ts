// Every CLI command follows the same conventions (lib/cli/framework.ts): --help prints and runs nothing, --version,
// `help <cmd>`, unknown flags rejected with the nearest valid one, --json on every command whose output is data,
// and the documented exit codes (2 usage / input data, 1 runtime), the same for a missing .npy and a missing .csv.
// Driven in-process through the dispatcher (lib/cli.ts main), with the work functions spied on.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { COMMANDS, main, usage } from '../lib/cli';
import { classify, helpText, nearest, runCommand, type CommandSpec } from '../lib/cli/framework';
import { UsageError } from '../lib/cli/usage';
import * as logitStatsModule from '../lib/logitStats';
import * as verifyModule from '../lib/tree/verify';
import * as fitModule from '../lib/scaling/fit';
import * as scoreModule from '../lib/xl3m/score';
import * as demoStats from '../lib/cli/demoStats';
import * as demoTree from '../lib/cli/demoTree';
import { backendInfo } from '../lib/runtime/backend';
import { rangeError } from '../lib/runtime/validate';

// Core modules as themselves (not an import wrapper), so that spies on them are seen by the CLI modules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const childProcess = require('child_process') as typeof import('child_process');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realFs = require('fs') as typeof fs;

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
const NAMES = Object.keys(COMMANDS);
const DATA_COMMANDS = ['info', 'demo', 'bench', 'fit', 'xl3m', 'generate'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-conv-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const l = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    l.mockRestore();
  }
}

/** Spies on every function a command does its work with; returns them to check none ran. */
function workSpies(): jest.SpyInstance[] {
  return [
    jest.spyOn(logitStatsModule, 'logitStats'),
    jest.spyOn(verifyModule, 'verifyTree'),
    jest.spyOn(fitModule, 'fit'),
    jest.spyOn(scoreModule, 'score'),
    jest.spyOn(scoreModule, 'createScorer'),
    jest.spyOn(demoStats, 'demoLogitStats'),
    jest.spyOn(demoTree, 'demoTree'),
    jest.spyOn(childProcess, 'spawnSync'),
    jest.spyOn(realFs, 'writeFileSync'),
  ];
}

function npy(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.writeUInt8(0x93, 0);
  h.write('NUMPY', 1, 'latin1');
  h.writeUInt8(1, 6);
  h.writeUInt16LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

describe('top level', () => {
  test('the help lists every command (generate included); no command is a usage error', async () => {
    const h = await cli(['--help']);
    expect(h.code).toBe(0);
    for (const n of NAMES) expect(h.out).toMatch(new RegExp(`^  ${n} +\\S`, 'm'));
    expect(NAMES).toEqual(expect.arrayContaining(['info', 'demo', 'bench', 'fit', 'xl3m', 'generate', 'build']));
    expect(h.out).toMatch(/exit codes: 0 success, 1 runtime error, 2 usage or input-data error/);
    expect((await cli(['help'])).out).toBe(usage());
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.err).toBe(usage());
  });

  test('--version, unknown command with a suggestion, help of an unknown command', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, out: `lengthwise ${pkg.version}\n`, err: '' });
    const typo = await cli(['fitt', 'x.csv']);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/unknown command 'fitt' \(did you mean 'fit'\?\)/);
    const h = await cli(['help', 'benhc']);
    expect(h.code).toBe(2);
    expect(h.err).toMatch(/did you mean 'bench'/);
    expect((await cli(['--json', 'info'])).code).toBe(2);
  });
});

describe.each(NAMES)('lengthwise %s', (name) => {
  const spec = COMMANDS[name]!();

  test('--help and help <cmd> print the help (options, exit codes) and run nothing', async () => {
    const spies = workSpies();
    try {
      for (const argv of [[name, '--help'], [name, '-h'], ['help', name], ...(spec.json ? [[name, '--json', '--help']] : []), [name, '--help', '--quick-not-an-option-after-help']]) {
        const r = await cli(argv);
        if (argv.includes('--quick-not-an-option-after-help')) {
          expect(r.code).toBe(2); // unknown options are rejected before anything, --help included
          continue;
        }
        expect(r).toEqual({ code: 0, out: helpText(spec), err: '' });
      }
      for (const s of spies) expect(s).not.toHaveBeenCalled();
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const text = helpText(spec);
    expect(text.startsWith(`usage: lengthwise ${name}`)).toBe(true);
    expect(text).toMatch(/^exit codes:\n  0  success\n  1  [^]+\n  2  .+/m);
    expect(text).toMatch(/--version/);
    expect(text).toMatch(/-h, --help/);
    expect(text.includes('--json')).toBe(spec.json);
  });

  test('--version prints the version and runs nothing', async () => {
    const spies = workSpies();
    try {
      expect(await cli([name, '--version'])).toEqual({ code: 0, out: `lengthwise ${pkg.version}\n`, err: '' });
      for (const s of spies) expect(s).not.toHaveBeenCalled();
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });

  test('an unknown flag exits 2 and names the nearest valid one', async () => {
    const spies = workSpies();
    try {
      const r = await cli([name, '--definitely-not-an-option']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`^lengthwise ${name}: unknown option '--definitely-not-an-option'`));
      expect(r.out).toBe('');
      // A typo of each of the command's own options gets that option suggested.
      for (const opt of Object.keys(spec.options)) {
        const typo = opt.length > 3 ? opt.slice(0, -1) + 'x' : `${opt}x`;
        if (Object.keys(spec.options).includes(typo)) continue;
        const t = await cli([name, `--${typo}`]);
        expect([opt, t.code]).toEqual([opt, 2]);
        const suggested = /did you mean --([\w-]+)\?/.exec(t.err)?.[1];
        expect([opt, nearest(typo, [...Object.keys(spec.options), 'json', 'help', 'version']) === suggested]).toEqual([opt, true]);
      }
      for (const s of spies) expect(s).not.toHaveBeenCalled();
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });

  test('--json exists exactly on the commands whose output is data', async () => {
    expect(spec.json).toBe(DATA_COMMANDS.includes(name));
    if (!spec.json) {
      const r = await cli([name, '--json']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/unknown option '--json'/);
    }
  });
});

describe('--json output is JSON on stdout', () => {
  const csv = path.join(dir, 'runs.csv');
  const logits = path.join(dir, 'l.npy');
  beforeAll(() => {
    const rows = ['N,D,loss'];
    for (const [n, d] of [[1e8, 2e9], [3e8, 6e9], [1e9, 2e10], [3e9, 6e10], [1e10, 2e11], [3e8, 2e10], [1e9, 6e9], [3e9, 2e11]]) {
      rows.push(`${n},${d},${(1.8 + 400 / n! ** 0.34 + 2000 / d! ** 0.37).toFixed(5)}`);
    }
    fs.writeFileSync(csv, rows.join('\n') + '\n');
    const data = new Float32Array(4 * 3 * 50);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 4;
    fs.writeFileSync(logits, npy('<f4', [4, 3, 50], data));
  });

  test('info, fit, xl3m, demo', async () => {
    const info = await cli(['info', '--json']);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.out)).toMatchObject({ version: pkg.version, backend: backendInfo().backend });
    const fit = await cli(['fit', csv, '--json', '--backend', 'cpu']);
    expect(fit.code).toBe(0);
    const j = JSON.parse(fit.out) as { runs: number; columns: { N: string; D: string; loss: string }; params: { alpha: number } };
    expect(j.runs).toBe(8);
    expect(j.columns).toMatchObject({ N: 'N', D: 'D', loss: 'loss' });
    const x = await cli(['xl3m', '--logits', logits, '--json', '--backend', 'cpu']);
    expect(x.code).toBe(0);
    expect(JSON.parse(x.out)).toMatchObject({ segments: 4, positionsPerSegment: 3, vocab: 50 });
    const d = await cli(['demo', '--only', 'stats', '--json']);
    expect(d.code).toBe(0);
    const dj = JSON.parse(d.out) as { parts: { part: string; text: string }[] };
    expect(dj.parts.map((p) => p.part)).toEqual(['stats']);
    expect(dj.parts[0]!.text).toMatch(/logitStats:/);
  });

  test('bench --quick --json: min / median / p90 per benchmark, the timer named', async () => {
    const r = await cli(['bench', '--quick', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { timer: string; busy: boolean; results: { name: string; min: number; median: number; p90: number; samples: number }[] };
    expect(j.timer).toMatch(/tinybench|built-in loop/);
    expect(j.results.length).toBeGreaterThanOrEqual(4);
    for (const b of j.results) {
      expect(b.min).toBeLessThanOrEqual(b.median);
      expect(b.median).toBeLessThanOrEqual(b.p90);
      expect(b.samples).toBeGreaterThan(0);
    }
    expect(r.err.includes('machine busy')).toBe(j.busy);
  });

  test('generate takes --json (the usage error is about the prompt, not the flag)', async () => {
    const r = await cli(['generate', '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--prompt TEXT is required/);
  });
});

describe('documented errors and their exit codes', () => {
  test('a missing .csv and a missing .npy both exit 2 with "cannot read … no such file", no raw ENOENT', async () => {
    for (const argv of [['fit', path.join(dir, 'nope.csv')], ['xl3m', '--logits', path.join(dir, 'nope.npy'), '--segments', '2'],
      ['xl3m', '--logits', path.join(dir, 'nope.bin'), '--rows', '2', '--vocab', '2', '--segments', '1']]) {
      const r = await cli(argv);
      expect([argv, r.code]).toEqual([argv, 2]);
      expect(r.err).toMatch(/cannot read .*nope\.\w+: no such file or directory/);
      expect(r.err).not.toMatch(/ENOENT/);
    }
    const t = await cli(['xl3m', '--logits', path.join(dir, 'nope.npy'), '--segments', '2', '--metric', 'nll', '--targets', path.join(dir, 't.npy')]);
    expect(t.code).toBe(2);
  });

  test('usage errors: bad value, missing value, value to a switch, extra argument, missing argument — exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['fit', 'x.csv', '--law', 'kaplan'], /--law must be one of chinchilla, kaplan-nd, data-constrained, got 'kaplan' \(did you mean 'kaplan-nd'\?\)/],
      [['xl3m', '--segments'], /--segments needs a value/],
      [['info', '--json=yes'], /--json takes no value/],
      [['info', 'extra'], /unexpected argument 'extra'/],
      [['fit', 'a.csv', 'b.csv'], /unexpected argument 'b.csv'/],
      [['fit'], /missing runs\.csv/],
      [['xl3m', '--segments', '2'], /--logits FILE is required/],
      [['xl3m', '--segments', 'two', '--logits', 'x'], /--segments must be an integer >= 1, got 'two'/],
      [['demo', '--only', 'nope'], /--only must be one of stats, xl3m, tree, fit/],
      [['xl3m', '--model', 'm.onnx', '--logits', 'x.npy'], /--logits is for a logits file, not --model/],
      [['xl3m', '--logits', 'x.npy', '--question', 'q'], /--question needs --model/],
      [['fit', '-', '--drop-outliers', '1', '--keep-outliers'], /exclude each other/],
    ];
    for (const [argv, msg] of cases) {
      const r = await cli(argv);
      expect([argv, r.code]).toEqual([argv, 2]);
      expect([argv, msg.test(r.err)]).toEqual([argv, true]);
    }
  });

  test('input-data errors exit 2: bad CSV rows, no such column, a bad .npy', async () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'N,D,loss\n1e9,2e10,2.5\n1e9,oops,2.4\n');
    const r = await cli(['fit', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 3: D 'oops' \(column D\) is not a number > 0 \(--skip-invalid skips such rows\)/);
    expect((await cli(['fit', bad, '--loss-col', 'los'])).err).toMatch(/no column 'los' for the loss \(--loss-col\) \(did you mean 'loss'\?\)/);
    const notNpy = path.join(dir, 'not.npy');
    fs.writeFileSync(notNpy, 'hello');
    const n = await cli(['xl3m', '--logits', notNpy, '--segments', '1']);
    expect(n.code).toBe(2);
    expect(n.err).toMatch(/not a \.npy file \(bad magic\)/);
  });

  test('the framework maps errors to codes: usage / file / coded validation → 2, anything else → 1', async () => {
    expect(classify(new UsageError('x')).code).toBe(2);
    expect(classify(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/a/b', syscall: 'open' }))).toEqual({ code: 2, message: 'cannot read /a/b: no such file or directory' });
    expect(classify(rangeError('opts.x must be > 0')).code).toBe(2);
    expect(classify(new RangeError('uncoded')).code).toBe(1);
    expect(classify(new Error('boom')).code).toBe(1);
    const failing: CommandSpec = { name: 'x', summary: 's', usage: 'x', options: {}, json: false, run: async () => { throw new Error('device lost'); } };
    let err = '';
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      expect(await runCommand(failing, [])).toBe(1);
    } finally {
      e.mockRestore();
    }
    expect(err).toBe('lengthwise x: device lost\n');
  });

  const noCuda = !backendInfo().devices.length;
  (noCuda ? test : test.skip)('a runtime error exits 1: --backend cuda without a device', async () => {
    const f = path.join(dir, 'one.npy');
    fs.writeFileSync(f, npy('<f4', [2, 4], new Float32Array(8)));
    const r = await cli(['xl3m', '--logits', f, '--segments', '1', '--backend', 'cuda']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^lengthwise xl3m: backend 'cuda' was requested but/);
  });
});

describe('fit reads what users write', () => {
  test('stdin (-), semicolons, unit suffixes and thousands separators, a trailing ,, row, --skip-invalid summary', async () => {
    const text = 'params;tokens;loss;outlier\n"1,000,000,000";20B;3.1;false\n2810M;1.4T;2.5;false\n5B;100B;2.7;true\n' +
      '10B;200B;2.4;no\n20B;400B;2.3;\n40B;1T;2.2;\n70B;1.4T;2.15;0\n80B;1T;x;\n;;;\n';
    const original = realFs.readFileSync;
    const stdin = jest.spyOn(realFs, 'readFileSync').mockImplementation(((f: unknown, ...rest: unknown[]) =>
      f === 0 ? text : (original as (...a: unknown[]) => unknown)(f, ...rest)) as typeof fs.readFileSync);
    try {
      const r = await cli(['fit', '-', '--skip-invalid', '--json', '--backend', 'cpu']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as { file: string; runs: number; rows: number; delimiter: string; drops: Record<string, number>; skipped: { line: number }[]; blankLines: number[]; notes: string[]; columns: Record<string, unknown> };
      expect(j.file).toBe('stdin');
      expect(j.delimiter).toBe(';');
      expect(j.rows).toBe(8);
      expect(j.runs).toBe(6);
      expect(j.drops).toEqual({ filter: 0, outlierColumn: 1, highestLoss: 0, invalid: 1 });
      expect(j.skipped.map((s) => s.line)).toEqual([9]);
      expect(j.blankLines).toEqual([10]);
      expect(j.columns).toMatchObject({ N: 'params', D: 'tokens', loss: 'loss', outlier: 'outlier' });
      expect(j.notes.join('\n')).toMatch(/dropped 1 row flagged in column 'outlier' \(the default/);
      const strict = await cli(['fit', '-']);
      expect(strict.code).toBe(2);
      expect(strict.err).toMatch(/line 9: loss 'x'/);
    } finally {
      stdin.mockRestore();
    }
  });
});
