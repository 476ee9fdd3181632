// scaling.parseCsv (public, on csv-parse) and the CLI's reading of run tables: delimiter detection, quoting, blank
// and malformed records with their line numbers, unit suffixes and thousands separators, the column mapping.
import { scaling } from '../lib';
import { detectDelimiter, parseQuantity } from '../lib/scaling/data';
import { runsFromCsv, describeColumns } from '../lib/cli/fit';

describe('scaling.parseCsv', () => {
  test('RFC 4180 quoting, CRLF, BOM, trimmed fields, line numbers', () => {
    const t = scaling.parseCsv('\ufeffa, b ,c\r\n1,"x, ""y""",3\r\n"multi\nline",2,3\r\n4,5,6');
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(t.rows).toEqual([['1', 'x, "y"', '3'], ['multi\nline', '2', '3'], ['4', '5', '6']]);
    expect(t.lines).toEqual([2, 4, 5]);
    expect(t.delimiter).toBe(',');
  });

  test('delimiter: detected from the header line outside quotes, or given', () => {
    expect(detectDelimiter('a;b;c\n1,5;2;3\n')).toBe(';');
    expect(detectDelimiter('a\tb\n1\t2\n')).toBe('\t');
    expect(detectDelimiter('"x;y;z",b\n')).toBe(',');
    expect(detectDelimiter('\n\nsingle\n')).toBe(',');
    const semi = scaling.parseCsv('N;D;loss\n1,000,000;2M;2,5\n');
    expect(semi.delimiter).toBe(';');
    expect(semi.rows).toEqual([['1,000,000', '2M', '2,5']]);
    expect(scaling.parseCsv('a;b\n1;2\n', { delimiter: ',' }).rows).toEqual([['1;2']]);
    expect(scaling.parseCsv('a\tb\n1\t2\n').rows).toEqual([['1', '2']]);
  });

  test('blank records (a trailing ,, row) are left out and listed; ragged rows are kept', () => {
    const t = scaling.parseCsv('a,b,c\n1,2,3\n,,\n\n4,5\n , ,\n');
    expect(t.rows).toEqual([['1', '2', '3'], ['4', '5']]);
    expect(t.blank).toEqual([3, 6]);
    expect(scaling.parseCsv('').header).toEqual([]);
  });

  test('malformed records: an error naming the line, or skipped and listed with skipMalformed', () => {
    const text = 'a,b\n1,2\n3,x"y\n5,6\n';
    expect(() => scaling.parseCsv(text)).toThrow(expect.objectContaining({ code: 'ERR_LENGTHWISE_USAGE', message: expect.stringMatching(/CSV: .*line 3/) }));
    const t = scaling.parseCsv(text, { skipMalformed: true });
    expect(t.rows).toEqual([['1', '2'], ['5', '6']]);
    expect(t.malformed.map((m) => m.line)).toEqual([3]);
  });

  test('bad arguments are coded TypeErrors naming them', () => {
    expect(() => scaling.parseCsv(3 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/text/) }));
    expect(() => scaling.parseCsv('a', { delimiter: '|' as ',' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/opts\.delimiter/) }));
    expect(() => scaling.parseCsv('a', { delimter: ',' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/delimiter/) }));
  });
});

describe('quantities', () => {
  test.each([
    ['2.81e9', 2.81e9], ['2810M', 2.81e9], ['70B', 7e10], ['70 B', 7e10], ['1.4T', 1.4e12], ['5k', 5e3], ['5K', 5e3], ['2G', 2e9],
    ['1P', 1e15], ['1,000,000,000', 1e9], ['12,345.5', 12345.5], ['1,000M', 1e9], [' 3 ', 3], ['.5', 0.5], ['-2', -2],
  ])('%s = %d', (s, want) => {
    expect(parseQuantity(s)).toBeCloseTo(want, 6);
  });
  test.each(['', 'M', '1,00', '1,0000', '1e', 'abc', '2m', '1.2.3', '12,34,567', 'NaN', 'Infinity', '0x10'])('%s is not a quantity', (s) => {
    expect(parseQuantity(s)).toBeNaN();
  });
});

describe('runsFromCsv (the fit command line)', () => {
  test('the mapping names the chosen columns, the other candidates, the unused ones', () => {
    const r = runsFromCsv('model,params,parameters,tokens,flops,loss,val_loss,source\nA,1e9,1e9,2e10,1.2e20,2.5,2.6,x\n');
    expect(r.columns).toEqual({
      N: 'params', D: 'tokens', loss: 'loss',
      alternatives: { N: ['parameters'], C: ['flops'], loss: ['val_loss'] },
      unused: ['model', 'parameters', 'flops', 'val_loss', 'source'],
    });
    const text = describeColumns(r.columns, r.delimiter).join('\n');
    expect(text).toMatch(/N +← 'params' \(also matching: parameters\)/);
    expect(text).toMatch(/compute column 'flops' unused \(--c-col flops derives D = C \/ \(6N\) instead\)/);
    expect(text).toMatch(/loss ← 'loss' \(also matching: val_loss\)/);
    expect(text).toMatch(/unused columns: model, parameters, flops, val_loss, source; delimiter ','/);
    const c = runsFromCsv('N,C,loss\n10,600,3\n', { cCol: 'C' });
    expect(c.D[0]).toBe(10);
    expect(describeColumns(c.columns, c.delimiter).join('\n')).toMatch(/D +← 'C' \/ \(6 N\) +\(compute; no D column\)/);
  });

  test('outliers: a flagged column is dropped by default and said so; --keep-outliers and --drop-outliers', () => {
    const text = 'N,D,loss,outlier\n1e9,2e10,2.5,False\n2e9,4e10,2.4,True\n3e9,6e10,9,no\n';
    const def = runsFromCsv(text);
    expect(def.N.length).toBe(2);
    expect(def.drops.outlierColumn).toBe(1);
    expect(def.columns.outlier).toBe('outlier');
    expect(def.notes.join('\n')).toMatch(/dropped 1 row flagged in column 'outlier' \(the default, as `lengthwise demo` does; --keep-outliers keeps them\)/);
    const keep = runsFromCsv(text, { keepOutliers: true });
    expect(keep.N.length).toBe(3);
    expect(keep.notes).toContain('outlier column ignored (--keep-outliers)');
    const highest = runsFromCsv(text, { dropOutliers: '1' });
    expect(Array.from(highest.loss)).toEqual([2.5, 2.4]);
    expect(highest.drops.highestLoss).toBe(1);
    expect(runsFromCsv(text, { dropOutliers: '0' }).N.length).toBe(3);
  });

  test("Epoch's Chinchilla table: the 5 highest losses dropped, as demo and chinchillaRuns()", () => {
    const fs = jest.requireActual('fs') as typeof import('fs');
    const r = runsFromCsv(fs.readFileSync(scaling.CHINCHILLA_CSV, 'utf8'));
    const d = scaling.chinchillaRuns();
    expect(r.total).toBe(245);
    expect(r.N.length).toBe(240);
    expect(Array.from(r.loss).sort()).toEqual(Array.from(d.loss).sort());
    expect(r.notes[0]).toMatch(/5 highest losses, as Besiroglu et al\. 2024 and `lengthwise demo` do \(--drop-outliers 0 keeps them\)/);
    expect(runsFromCsv(fs.readFileSync(scaling.CHINCHILLA_CSV, 'utf8'), { dropOutliers: '0' }).N.length).toBe(245);
  });

  test('invalid rows: the first stops the read naming its line, or --skip-invalid lists them', () => {
    const text = 'N,D,loss\n1e9,2e10,2.5\n2e9,,2.4\n3e9,6e10,-1\n4e9,8e10\n5e9,1e11,2.1\n,,\n';
    expect(() => runsFromCsv(text)).toThrow(/^line 3: D '' \(column D\) is empty \(--skip-invalid skips such rows\)$/);
    const r = runsFromCsv(text, { skipInvalid: true });
    expect(r.N.length).toBe(2);
    expect(r.skipped).toEqual([
      { line: 3, reason: "D '' (column D) is empty" },
      { line: 4, reason: "loss '-1' (column loss) is not a number > 0" },
      { line: 5, reason: "loss '' (column loss) is empty" },
    ]);
    expect(r.blank).toEqual([7]);
    expect(r.notes.join('\n')).toMatch(/skipped 3 invalid rows \(--skip-invalid\): line 3: .*; line 4: .*; line 5: /);
    expect(r.notes.join('\n')).toMatch(/ignored 1 blank row \(line 7\)/);
    expect(() => runsFromCsv('N,D,loss\n1,x,1\n', { skipInvalid: true })).toThrow(/no runs left out of 1 rows/);
  });

  test('a row with more fields than the header is invalid (an unquoted thousands separator), not misread', () => {
    expect(() => runsFromCsv('N,D,loss\n1,000,000,2e10,2.5\n')).toThrow(/^line 2: 5 fields, the header has 3 \(a thousands separator in an unquoted number\? quote it: "1,000,000"\)/);
    const r = runsFromCsv('N,D,loss\n"1,000,000",2e10,2.5\n2,000,4e10,2.4\n3e6,6e10,2.3\n', { skipInvalid: true });
    expect(Array.from(r.N)).toEqual([1e6, 3e6]);
    expect(r.skipped.map((x) => x.line)).toEqual([3]);
  });

  test('filters, a missing column with a suggestion', () => {
    const text = 'source,N,D,loss\na,1e9,2e10,2.5\nb,2e9,4e10,2.4\n';
    const r = runsFromCsv(text, { filters: ['source=a'] });
    expect(r.N.length).toBe(1);
    expect(r.notes).toContain('dropped 1 row by --filter source=a');
    expect(() => runsFromCsv(text, { lossCol: 'los' })).toThrow(/no column 'los' for the loss \(--loss-col\) \(did you mean 'loss'\?\)/);
    expect(() => runsFromCsv('x,y\n1,2\n')).toThrow(/no column for N \(--n-col\); name it with an option \(columns: x, y\)/);
  });
});
