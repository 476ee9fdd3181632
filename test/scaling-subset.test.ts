import * as fs from 'fs';
import { scaling } from '../lib';
import { rng } from './helpers/rng';

const t = scaling.isoflopRuns();

describe('scaling.parseWhere (no eval)', () => {
  test('grammar: precedence, literals, backticked names', () => {
    expect(scaling.parseWhere('a || b && !c')).toEqual({
      kind: 'or',
      left: { kind: 'column', name: 'a' },
      right: { kind: 'and', left: { kind: 'column', name: 'b' }, right: { kind: 'not', arg: { kind: 'column', name: 'c' } } },
    });
    expect(scaling.parseWhere('`Model Size` >= -1.5e8')).toEqual({
      kind: 'compare', op: '>=', left: { kind: 'column', name: 'Model Size' }, right: { kind: 'literal', value: -1.5e8 },
    });
    expect(scaling.parseWhere("s == 'it''s'".replace("''", "\\'"))).toEqual({
      kind: 'compare', op: '==', left: { kind: 'column', name: 's' }, right: { kind: 'literal', value: "it's" },
    });
    expect(scaling.parseWhere('(x) == true')).toEqual({ kind: 'compare', op: '==', left: { kind: 'column', name: 'x' }, right: { kind: 'literal', value: true } });
  });

  test('syntax errors are RangeErrors with the position; code is never run', () => {
    for (const [text, what] of [
      ['source = "x"', "'=' (use '==' to compare) at position 7"],
      ['a &&', 'unexpected end at position 4'],
      ['(a', "missing ')' at position 2"],
      ['"abc', 'unterminated string at position 0'],
      ['a b', "unexpected 'b' at position 2"],
      ['process.exit(1)', "unexpected '(' at position 12"],
      ['a; b', "unexpected ';' at position 1"],
      ['', 'empty expression'],
    ] as const) {
      let err: (Error & { code?: string }) | undefined;
      try {
        scaling.parseWhere(text);
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err).toBeInstanceOf(RangeError);
      expect(err!.code).toBe('ERR_OUT_OF_RANGE');
      expect(err!.message).toContain('opts.where is not a valid expression');
      expect(err!.message).toContain(what);
    }
    expect(() => scaling.parseWhere(3 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('scaling.subset', () => {
  test('a where string selects what the same predicate does, on string, number and boolean columns', () => {
    const r = rng(11);
    for (let k = 0; k < 20; k++) {
      const src = [...new Set(t.source)][Math.floor(r() * 5)]!;
      const lo = 10 ** (7 + 3 * r());
      const text = `source == "${src}" && N >= ${lo} && !outlier || loss > ${2 + 2 * r()}`;
      const a = scaling.subset(t, { where: text });
      const b = scaling.subset(t, { where: (row) => (row.source === src && (row.N as number) >= lo && !row.outlier) || (row.loss as number) > Number(text.split('> ')[1]) });
      expect(Array.from(a.kept)).toEqual(Array.from(b.kept));
      expect(a.data.N.length).toBe(a.kept.length);
      // Every column keeps its kind and follows the kept rows.
      expect(a.data.N).toBeInstanceOf(Float64Array);
      expect(Array.isArray(a.data.source)).toBe(true);
      a.kept.forEach((i, j) => {
        expect(a.data.source[j]).toBe(t.source[i]);
        expect(a.data.outlier[j]).toBe(t.outlier[i]);
        expect(a.data.budget[j]).toBe(t.budget[i]);
      });
      expect(a.kept.length + a.dropped.length).toBe(t.N.length);
    }
  });

  test('within, dropOutliers and dropHighestLoss; each drop names its rule', () => {
    const s = scaling.subset(t, { within: { N: { min: 1e8, max: 1e10 } }, dropOutliers: true });
    for (let j = 0; j < s.data.N.length; j++) {
      expect(s.data.N[j]).toBeGreaterThanOrEqual(1e8);
      expect(s.data.N[j]).toBeLessThanOrEqual(1e10);
      expect(s.data.outlier[j]).toBe(false);
    }
    for (const d of s.dropped) {
      const n = t.N[d.index]!;
      if (d.reason === 'within') {
        expect(d.column).toBe('N');
        expect(n < 1e8 || n > 1e10).toBe(true);
      } else {
        expect(d.reason).toBe('outlier');
        expect(t.outlier[d.index]).toBe(true);
      }
    }
    // dropHighestLoss = chinchillaRuns()'s rule (Besiroglu et al. drop the 5 highest losses).
    const { header, rows } = scaling.parseCsv(fs.readFileSync(scaling.CHINCHILLA_CSV, 'utf8'));
    const iN = header.indexOf('Model Size');
    const iL = header.indexOf('loss');
    const table = { N: Float64Array.from(rows, (x) => Number(x[iN])), loss: Float64Array.from(rows, (x) => Number(x[iL])) };
    const h = scaling.subset(table, { dropHighestLoss: 5 });
    expect(h.dropped.map((d) => d.reason)).toEqual(Array(5).fill('highest-loss'));
    const want = scaling.chinchillaRuns();
    expect(Array.from(h.data.loss).sort()).toEqual(Array.from(want.loss).sort());
    // Rules apply in order: a run dropped by `where` is not counted again.
    const both = scaling.subset(t, { where: 'source == "llama_3"', dropOutliers: 'outlier' });
    expect(both.dropped.filter((d) => d.reason === 'outlier').every((d) => t.source[d.index] === 'llama_3')).toBe(true);
    expect(scaling.subset(t, {}).kept.length).toBe(t.N.length);
  });

  test('empty tables and empty results', () => {
    const e = scaling.subset({ N: [], loss: [] }, { where: 'N > 1' });
    expect(e.kept.length).toBe(0);
    const none = scaling.subset(t, { where: 'false' });
    expect(none.data.N.length).toBe(0);
    expect(none.data.source).toEqual([]);
  });

  test('bad input: coded errors naming the argument', () => {
    const cases: [() => unknown, string, string][] = [
      [() => scaling.subset(t, { where: 'nope > 1' }), 'ERR_OUT_OF_RANGE', "opts.where names no column 'nope'"],
      [() => scaling.subset(t, { where: 'source < 1' }), 'ERR_OUT_OF_RANGE', "'<' compares two numbers or two strings"],
      [() => scaling.subset(t, { where: 3 as never }), 'ERR_INVALID_ARG_TYPE', 'opts.where'],
      [() => scaling.subset(t, { within: { nope: {} } }), 'ERR_OUT_OF_RANGE', "opts.within names no column 'nope'"],
      [() => scaling.subset(t, { within: { N: { mni: 1 } as never } }), 'ERR_INVALID_ARG_TYPE', "unknown option 'mni' in opts.within.N (did you mean 'min'?)"],
      [() => scaling.subset(t, { within: { source: { min: 1 } } }), 'ERR_OUT_OF_RANGE', "column 'source' must be numeric"],
      [() => scaling.subset(t, { dropOutliers: 'flag' }), 'ERR_OUT_OF_RANGE', "opts.dropOutliers names no column 'flag'"],
      [() => scaling.subset(t, { dropHighestLoss: -1 }), 'ERR_OUT_OF_RANGE', 'opts.dropHighestLoss'],
      [() => scaling.subset({ N: [1, 2], loss: [1] }, {}), 'ERR_OUT_OF_RANGE', 'data.loss must have as many entries as data.N'],
      [() => scaling.subset({ N: 'x' } as never, {}), 'ERR_INVALID_ARG_TYPE', 'data.N'],
      [() => scaling.isoflopRuns({ source: 'chinchilla' }), 'ERR_OUT_OF_RANGE', 'opts.source must name a study'],
    ];
    for (const [f, code, msg] of cases) {
      expect(f).toThrow(expect.objectContaining({ code, message: expect.stringContaining(msg) }));
    }
  });
});

describe('tables', () => {
  test('tableFromCsv types columns; isoflopRuns maps the bundled table', () => {
    const c = scaling.tableFromCsv('a,b,c,d\n1,x,True,\n2.5e3,y,False,3\n');
    expect(Array.from(c.a as Float64Array)).toEqual([1, 2500]);
    expect(c.b).toEqual(['x', 'y']);
    expect(c.c).toEqual([true, false]);
    expect(Array.from(c.d as Float64Array)).toEqual([NaN, 3]);
    expect(t.N.length).toBe(947);
    expect(new Set(t.source)).toEqual(new Set(['epochai_chinchilla', 'ml_scalefit', 'misfitting', 'llama_3', 'marin_202603']));
    expect(t.outlier.filter(Boolean).length).toBeGreaterThan(0);
    const chin = scaling.isoflopRuns({ source: 'epochai_chinchilla', dropOutliers: true });
    expect(chin.source.every((s) => s === 'epochai_chinchilla')).toBe(true);
    expect(chin.outlier.every((o) => !o)).toBe(true);
    expect(scaling.isoflopRuns({ source: ['llama_3', 'ml_scalefit'] }).N.length).toBe(266 + 124);
  });
});
