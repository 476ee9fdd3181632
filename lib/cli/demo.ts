/**
 * `lengthwise demo`: every capability on bundled data (logit statistics, XL3M, tree verification, a scaling fit).
 *
 * @packageDocumentation
 */
import { backendInfo } from '../runtime/backend';
import type { Args, CommandSpec } from './framework';
import { UsageError } from './usage';

type DemoPart = { key: string; title: string; module: string; fn: string };

const PARTS: DemoPart[] = [
  { key: 'stats', title: 'logit statistics', module: './demoStats', fn: 'demoLogitStats' },
  { key: 'xl3m', title: 'XL3M relevance scoring', module: './xl3m', fn: 'demoXl3m' },
  { key: 'tree', title: 'speculative-decoding tree verification', module: './demoTree', fn: 'demoTree' },
  { key: 'fit', title: 'scaling-law fit', module: './fit', fn: 'demoFit' },
];

async function runDemo(args: Args): Promise<number> {
  const only = args.strings('only');
  for (const k of only) {
    if (!PARTS.some((p) => p.key === k)) throw new UsageError(`--only must be one of ${PARTS.map((p) => p.key).join(', ')}, got '${k}'`);
  }
  const parts = only.length ? PARTS.filter((p) => only.includes(p.key)) : PARTS;
  const i = backendInfo();
  if (!args.json) console.log(`lengthwise ${i.version} demo — backend ${i.backend} (${i.threads} threads, ${i.simd})\n`);
  const results: { part: string; title: string; milliseconds: number; text: string }[] = [];
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k]!;
    process.stderr.write(`[${k + 1}/${parts.length}] ${p.title} ...\n`);
    const t0 = Date.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(p.module) as Record<string, () => Promise<string>>;
    const text = await mod[p.fn]!();
    const ms = Date.now() - t0;
    results.push({ part: p.key, title: p.title, milliseconds: ms, text });
    if (!args.json) console.log(`== ${p.title} (${ms} ms)\n${text}\n`);
  }
  if (args.json) {
    process.stdout.write(JSON.stringify({ version: i.version, backend: i.backend, threads: i.threads, simd: i.simd, parts: results }, null, 2) + '\n');
  }
  return 0;
}

/** `lengthwise demo`. @internal */
export const command: CommandSpec = {
  name: 'demo',
  summary: 'all capabilities on bundled data',
  usage: 'demo [--only PART] [--json]',
  description: `Runs each capability on data shipped in the package: logit statistics of a word n-gram model over a
passage, XL3M finding a fact hidden in a long generated context, speculative-decoding tree verification with a draft
and a target n-gram model, and Chinchilla's approach 3 on the bundled runs (5 highest losses dropped, as Besiroglu et
al. 2024) with a bootstrap. About 10 s on 2 cores.`,
  options: {
    only: { type: 'string', multiple: true, value: 'PART', help: `run only this part: ${PARTS.map((p) => p.key).join(', ')}` },
  },
  json: true,
  run: runDemo,
};
