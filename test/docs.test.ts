// docs/: every page the code, tests and README cite exists (with the cited section), DESIGN.md (not in the repo or
// the package) is cited nowhere, and docs/ ships in the package.
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'results') filesUnder(rel, out);
    } else if (/\.(ts|js|cc|h|cu|cuh|md)$/.test(e.name)) out.push(rel);
  }
  return out;
}

const sources = ['lib', 'native', 'test', 'bench', 'scripts', 'examples', 'docs'].filter((d) => fs.existsSync(path.join(ROOT, d)))
  .flatMap((d) => filesUnder(d)).concat(['README.md']);

test('no source, test, benchmark or README cites DESIGN.md', () => {
  const citing = sources.filter((f) => f !== path.join('test', 'docs.test.ts') && /DESIGN/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
  expect(citing).toEqual([]);
});

test('every cited docs/ page exists, and so does every cited section', () => {
  const cited = new Map<string, Set<string>>();
  for (const f of sources) {
    const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
    for (const m of text.matchAll(/docs\/([a-z0-9-]+\.(?:md|svg))(?: §(\d+))?/g)) {
      if (!cited.has(m[1]!)) cited.set(m[1]!, new Set());
      if (m[2]) cited.get(m[1]!)!.add(m[2]);
    }
  }
  expect(cited.size).toBeGreaterThanOrEqual(6);
  for (const [page, sections] of cited) {
    const file = path.join(ROOT, 'docs', page);
    expect(fs.existsSync(file) ? page : `missing docs/${page}`).toBe(page);
    const text = fs.readFileSync(file, 'utf8');
    for (const s of sections) expect(text).toMatch(new RegExp(`^## ${s}\\. `, 'm'));
  }
});

test('a page per capability, linked from the index; docs/ ships in the package', () => {
  const index = fs.readFileSync(path.join(ROOT, 'docs', 'README.md'), 'utf8');
  for (const p of ['logit-statistics', 'xl3m', 'tree-verification', 'scaling-laws', 'serving-cli']) {
    expect(fs.existsSync(path.join(ROOT, 'docs', `${p}.md`))).toBe(true);
    expect(index).toContain(`(${p}.md)`);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  expect(pkg.files).toContain('docs/');
  // the README embeds the committed figure
  expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('](docs/chinchilla-fit.svg)');
  expect(fs.readFileSync(path.join(ROOT, 'docs', 'chinchilla-fit.svg'), 'utf8').startsWith('<svg')).toBe(true);
});
