#!/usr/bin/env node
/**
 * `lengthwise` command line. The command table is {@link COMMANDS}: one module per command (lib/cli/<name>.ts)
 * declaring its options, summary, usage and exit codes (see lib/cli/framework.ts); modules load on use, so
 * `lengthwise info` stays instant.
 *
 * @packageDocumentation
 */
import { EXIT, helpText, nearest, runCommand, versionText, type CommandSpec } from './cli/framework';

/** The command table, in the order of the help text. @internal */
export const COMMANDS: Record<string, () => CommandSpec> = {
  /* eslint-disable @typescript-eslint/no-require-imports */
  info: () => (require('./cli/info') as typeof import('./cli/info')).command,
  demo: () => (require('./cli/demo') as typeof import('./cli/demo')).command,
  bench: () => (require('./cli/bench') as typeof import('./cli/bench')).command,
  fit: () => (require('./cli/fit') as typeof import('./cli/fit')).command,
  xl3m: () => (require('./cli/xl3m') as typeof import('./cli/xl3m')).command,
  generate: () => (require('./cli/generate') as typeof import('./cli/generate')).command,
  build: () => (require('./cli/build') as typeof import('./cli/build')).command,
  /* eslint-enable @typescript-eslint/no-require-imports */
};

/** The top-level help. @internal */
export function usage(): string {
  const specs = Object.values(COMMANDS).map((load) => load());
  const width = Math.max(...specs.map((s) => s.name.length)) + 3;
  return [
    'usage: lengthwise <command> [options]',
    '       lengthwise help <command> | <command> --help     options, exit codes of a command',
    '       lengthwise --version',
    '',
    'commands:',
    ...specs.map((s) => `  ${s.name.padEnd(width)}${s.summary}`),
    '',
    'every command: -h/--help (prints, runs nothing), --version; --json where the output is data.',
    'exit codes: 0 success, 1 runtime error, 2 usage or input-data error.',
    '',
  ].join('\n');
}

function unknownCommand(name: string): number {
  const near = nearest(name, Object.keys(COMMANDS));
  process.stderr.write(`lengthwise: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}\n\n${usage()}`);
  return EXIT.usage;
}

/** Dispatches `argv` (without node and the script); returns the exit code. @internal */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    process.stderr.write(usage());
    return EXIT.usage;
  }
  if (cmd === '--help' || cmd === '-h') {
    process.stdout.write(usage());
    return EXIT.ok;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(versionText());
    return EXIT.ok;
  }
  if (cmd === 'help') {
    if (rest.length === 0) {
      process.stdout.write(usage());
      return EXIT.ok;
    }
    const load = COMMANDS[rest[0]!];
    if (!load) return unknownCommand(rest[0]!);
    if (rest.length > 1) {
      process.stderr.write('lengthwise help: one command at a time (lengthwise help <command>)\n');
      return EXIT.usage;
    }
    process.stdout.write(helpText(load()));
    return EXIT.ok;
  }
  if (cmd.startsWith('-')) {
    process.stderr.write(`lengthwise: '${cmd}' before a command: options go after it (lengthwise <command> ${cmd})\n\n${usage()}`);
    return EXIT.usage;
  }
  const load = COMMANDS[cmd];
  if (!load) return unknownCommand(cmd);
  return runCommand(load(), rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${message.startsWith('lengthwise') ? '' : 'lengthwise: '}${message}\n`);
      process.exitCode = EXIT.runtime;
    },
  );
}
