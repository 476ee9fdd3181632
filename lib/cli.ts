#!/usr/bin/env node
/**
 * `lengthwise` command line: info, build, demo, bench, fit, xl3m.
 *
 * @packageDocumentation
 */
import { backendInfo } from './runtime/backend';
import { demoLogitStats } from './cli/demoStats';
import { lwError } from './runtime/validate';

const USAGE = `usage: lengthwise <command> [options]

commands:
  info [--json]            backend, CPU, CUDA driver / runtime / architectures vs devices
  build [--cuda]           build the native addon from source in this install (no prebuilt for this platform)
  demo                     all capabilities on bundled data
  bench [--quick]          benchmarks (writes bench/results/ in a checkout)
  fit runs.csv [options]   fit a scaling law (lengthwise fit --help)
  xl3m [options]           score segments from a logits file (lengthwise xl3m --help)
`;

type Command = (argv: string[]) => Promise<number>;

// Optional subcommands live in their own modules (loaded on use, so `info` stays instant).
function lazy(modulePath: string, exportName: string): Command {
  return async (argv) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as Record<string, Command>;
    const fn = mod[exportName];
    if (typeof fn !== 'function') throw lwError('ERR_LENGTHWISE', `internal: ${modulePath} has no ${exportName}`);
    return fn(argv);
  };
}

type DemoPart = { title: string; run: () => Promise<string> };

async function demo(): Promise<number> {
  const parts: DemoPart[] = [{ title: 'logit statistics', run: demoLogitStats }];
  for (const [title, modulePath, name] of [
    ['XL3M relevance scoring', './cli/xl3m', 'demoXl3m'],
    ['speculative-decoding tree verification', './cli/demoTree', 'demoTree'],
    ['scaling-law fit', './cli/fit', 'demoFit'],
  ] as const) {
    parts.push({
      title,
      run: async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(modulePath) as Record<string, () => Promise<string>>;
        return mod[name]!();
      },
    });
  }
  const i = backendInfo();
  console.log(`lengthwise ${i.version} demo — backend ${i.backend} (${i.threads} threads, ${i.simd})\n`);
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k]!;
    process.stderr.write(`[${k + 1}/${parts.length}] ${p.title} ...\n`);
    const t0 = Date.now();
    const text = await p.run();
    console.log(`== ${p.title} (${Date.now() - t0} ms)\n${text}\n`);
  }
  return 0;
}

const COMMANDS: Record<string, Command> = {
  info: lazy('./cli/info', 'runInfo'),
  build: lazy('./cli/build', 'runBuild'),
  demo,
  bench: lazy('./cli/bench', 'runBench'),
  fit: lazy('./cli/fit', 'runFit'),
  xl3m: lazy('./cli/xl3m', 'runXl3m'),
  generate: lazy('./cli/generate', 'runGenerate'),
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 1;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    process.stderr.write(`lengthwise: unknown command '${cmd}'\n${USAGE}`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${message.startsWith('lengthwise: ') ? '' : 'lengthwise: '}${message}\n`);
    process.exitCode = 1;
  },
);
