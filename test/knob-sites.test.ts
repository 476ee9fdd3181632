// #7's measure of "one vocabulary per concept": a target-processing knob lives in one file per layer. min-p (the
// last knob added) is named only by these source files; a new file that needs to name it is a knob leaking into
// a layer that should read it through SamplingParams / KeptRule (core/sampling_params.h).
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return /\.(ts|h|cc|cu|cuh)$/.test(e.name) ? [rel] : [];
  });
}

test('min-p is named by one file per layer (TS, addon, core ×2, CPU, CUDA)', () => {
  const naming = [...sources('lib'), ...sources('native')]
    .filter((f) => /(^|[^A-Za-z0-9])min[-_]?p([^a-z]|$)/im.test(fs.readFileSync(path.join(root, f), 'utf8')))
    .sort();
  expect(naming).toEqual([
    'lib/tree/sampling.ts',
    'native/addon/unpack.cc',
    'native/core/processed_distribution.cc',
    'native/core/sampling_params.h',
    'native/cpu/kept_set.cc',
    'native/cuda/kept_set.cuh',
  ]);
});
