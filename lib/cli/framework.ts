/**
 * The CLI's one framework: every command is a {@link CommandSpec} (options, summary, usage, exit codes) parsed by
 * `node:util` parseArgs. It gives every command `-h/--help` (prints, runs nothing), `--version`, `--json` where the
 * output is data, unknown flags rejected with the nearest valid one, and one mapping from errors to exit codes:
 * 0 success, 1 runtime error, 2 usage or input-data error.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { packageVersion } from '../runtime/loader';
import { UsageError } from './usage';

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

/** One option of a command. */
export interface OptionSpec {
  /** 'string' takes a value (`--name V` or `--name=V`); 'boolean' is a switch. */
  type: 'string' | 'boolean';
  /** Repeatable (values collected in order). */
  multiple?: boolean;
  /** One-letter alias. */
  short?: string;
  /** Placeholder of the value in the help text (default 'V'). */
  value?: string;
  /** One line (or more, joined) of help. */
  help: string;
  /** Heading the option is listed under (default 'options'). */
  group?: string;
}

/** The parsed arguments of one command, with typed, validating accessors (each throws {@link UsageError}). */
export class Args {
  constructor(
    /** Command name (for messages). */
    readonly command: string,
    /** Raw parsed values. */
    readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>,
    /** Positional arguments. */
    readonly positionals: readonly string[],
  ) {}

  /** Whether the option was given. */
  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  /** A switch. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** `--json` was given. */
  get json(): boolean {
    return this.flag('json');
  }

  /** A string option (the last one when repeated). */
  string(name: string): string | undefined {
    const v = this.values[name];
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    return typeof last === 'string' ? last : undefined;
  }

  /** Every value of a repeatable option. */
  strings(name: string): string[] {
    const v = this.values[name];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
  }

  /** A required string option. */
  required(name: string, what = `--${name} ${name.toUpperCase()}`): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`${what} is required`);
    return v;
  }

  /** A number option (finite), optionally bounded. */
  number(name: string, opts: { min?: number; max?: number; minExclusive?: boolean } = {}): number | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    const x = Number(s);
    const { min, max, minExclusive } = opts;
    const bad = s.trim() === '' || !Number.isFinite(x) || (min !== undefined && (minExclusive ? x <= min : x < min)) ||
      (max !== undefined && x > max);
    if (bad) {
      const range = min === undefined ? '' : max === undefined ? ` ${minExclusive ? '>' : '>='} ${min}` : ` in ${minExclusive ? '(' : '['}${min}, ${max}]`;
      throw new UsageError(`--${name} must be a number${range}, got '${s}'`);
    }
    return x;
  }

  /** An integer option >= `min`. */
  int(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (s.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(`--${name} must be an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}, got '${s}'`);
    }
    return n;
  }

  /** One of `allowed` (or `fallback` when not given). */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined;
  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  choice<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const s = this.string(name);
    if (s === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(s)) {
      const near = nearest(s, allowed);
      throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${s}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    return s as T;
  }
}

/** One command of the table. */
export interface CommandSpec {
  /** Name as typed (`lengthwise <name>`). */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage line after `lengthwise ` (e.g. 'fit FILE.csv|- [options]'). */
  usage: string;
  /** Paragraph(s) printed under the usage line. */
  description?: string;
  /** Options (without help/version/json, which the framework adds). */
  options: Record<string, OptionSpec>;
  /** Whether the command prints data and takes `--json`. */
  json: boolean;
  /** Positional arguments: how many at most (default 0). */
  maxPositionals?: number;
  /** Exit codes and when (the framework's 0/1/2 lines are added when not given here). */
  exits?: Partial<Record<0 | 1 | 2, string>>;
  /** Extra text after the options (examples, notes). */
  epilog?: string;
  /** Runs the command; returns the exit code. Throw {@link UsageError} for usage and input-data errors. */
  run(args: Args): Promise<number>;
}

const COMMON: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', help: 'print this help and exit (runs nothing)', group: 'common' },
  version: { type: 'boolean', help: 'print the version and exit', group: 'common' },
};
const JSON_OPTION: OptionSpec = { type: 'boolean', help: 'print the result as JSON on stdout (progress and notes stay on stderr)', group: 'common' };

/** Every option of a command, the framework's included. */
export function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, ...(spec.json ? { json: JSON_OPTION } : {}), ...COMMON };
}

/** Levenshtein distance (small strings). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate nearest to `s` when it is close enough to be a likely typo (or a prefix of exactly one). */
export function nearest(s: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((c) => c.startsWith(s) && s.length >= 2);
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(s.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(s.length / 3)) ? best : undefined;
}

const DEFAULT_EXITS: Record<0 | 1 | 2, string> = {
  0: 'success',
  1: 'runtime error (native addon or device failure, internal error)',
  2: 'usage or input-data error (bad or unknown option, missing or unreadable file, malformed input)',
};

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const out: string[] = [`usage: lengthwise ${spec.usage}`, ''];
  const summary = spec.summary[0]!.toUpperCase() + spec.summary.slice(1);
  out.push(summary.endsWith('.') ? summary : `${summary}.`);
  for (const para of (spec.description ?? '').split(/\n\s*\n/).filter((p) => p.trim())) out.push('', wrap(para, 116, ''));
  const opts = allOptions(spec);
  const groups = new Map<string, [string, OptionSpec][]>();
  for (const [name, o] of Object.entries(opts)) {
    const g = o.group ?? 'options';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push([name, o]);
  }
  const label = (name: string, o: OptionSpec) =>
    `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'V'}` : ''}`;
  const width = Math.min(26, Math.max(...Object.entries(opts).map(([n, o]) => label(n, o).length)) + 2);
  for (const [g, list] of groups) {
    out.push('', `${g}:`);
    for (const [name, o] of list) {
      const l = label(name, o);
      const help = wrap(o.help + (o.multiple ? ' (repeatable)' : ''), 118 - 2 - width, ' '.repeat(2 + width));
      out.push(l.length + 2 > width ? `  ${l}\n${' '.repeat(2 + width)}${help}` : `  ${l.padEnd(width)}${help}`);
    }
  }
  const exits = { ...DEFAULT_EXITS, ...(spec.exits ?? {}) };
  out.push('', 'exit codes:');
  for (const k of [0, 1, 2] as const) out.push(`  ${k}  ${wrap(exits[k], 112, '     ')}`);
  if (spec.epilog) out.push('', spec.epilog.trim());
  return out.join('\n') + '\n';
}

/** `lengthwise <version>` (from package.json; needs no native addon). */
export function versionText(): string {
  return `lengthwise ${packageVersion()}\n`;
}

/**
 * Parses `argv` against the spec. Unknown options get the nearest valid one; a missing value, a value given to a
 * switch and extra positionals are usage errors.
 */
export function parseCommand(spec: CommandSpec, argv: string[]): Args {
  const opts = allOptions(spec);
  const config = Object.fromEntries(
    Object.entries(opts).map(([n, o]) => [n, { type: o.type, multiple: o.multiple ?? false, ...(o.short ? { short: o.short } : {}) }]),
  );
  const names = Object.keys(opts);
  // First pass, lenient: find unknown names ourselves to suggest the nearest valid one.
  const loose = parseArgs({ args: argv, options: config, strict: false, allowPositionals: true, tokens: true });
  for (const t of loose.tokens ?? []) {
    if (t.kind !== 'option' || t.name in opts) continue;
    if (t.rawName.length === 2 && Object.values(opts).some((o) => o.short === t.name)) continue;
    const near = t.rawName.startsWith('--') ? nearest(t.name, names) : undefined;
    throw new UsageError(`unknown option '${t.rawName}'${near ? ` (did you mean --${near}?)` : ''}`);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const m = /'(-\w, )?(--[\w-]+)/.exec(err.message);
    const name = m?.[2] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const o = opts[name.slice(2)];
      throw new UsageError(o?.type === 'boolean' ? `${name} takes no value` :
        `${name} needs a value${o?.value ? ` (${name} ${o.value})` : ''}; a value starting with '-' is written ${name}=-X`);
    }
    throw new UsageError(err.message);
  }
  const max = spec.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals[max]!;
    throw new UsageError(max === 0 ? `unexpected argument '${extra}' (options start with --)` : `unexpected argument '${extra}'`);
  }
  return new Args(spec.name, parsed.values as Args['values'], parsed.positionals);
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory',
  EPERM: 'operation not permitted', ELOOP: 'too many symbolic links', ENAMETOOLONG: 'name too long',
};

/** Maps an error to its exit code and the message to print (without the command prefix). */
export function classify(err: unknown): { code: 1 | 2; message: string } {
  const e = err as { code?: unknown; message?: unknown; path?: unknown; syscall?: unknown };
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) return { code: 2, message };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code in FILE_ERRORS && typeof e.path === 'string') {
    return { code: 2, message: `cannot ${e.syscall === 'open' || e.syscall === 'read' ? 'read' : 'use'} ${e.path}: ${FILE_ERRORS[code]}` };
  }
  if (code === 'ERR_LENGTHWISE_USAGE') return { code: 2, message };
  // The library's argument checks (coded TypeError/RangeError, lib/runtime/validate.ts): the input data does not fit.
  if ((err instanceof TypeError || err instanceof RangeError) && (code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_OUT_OF_RANGE' || code.startsWith('ERR_LENGTHWISE'))) {
    return { code: 2, message };
  }
  if (code.startsWith('CSV_')) return { code: 2, message };
  return { code: 1, message };
}

/** Runs one command: parses, handles --help/--version, maps errors to exit codes. */
export async function runCommand(spec: CommandSpec, argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseCommand(spec, argv);
  } catch (e) {
    const { code, message } = classify(e);
    process.stderr.write(`lengthwise ${spec.name}: ${message}\n(lengthwise ${spec.name} --help for usage)\n`);
    return code;
  }
  if (args.flag('help')) {
    process.stdout.write(helpText(spec));
    return EXIT.ok;
  }
  if (args.flag('version')) {
    process.stdout.write(versionText());
    return EXIT.ok;
  }
  try {
    return await spec.run(args);
  } catch (e) {
    const { code, message } = classify(e);
    const prefix = `lengthwise ${spec.name}: `;
    // The library's messages may start with 'lengthwise: '; name the command instead.
    const text = message.startsWith(prefix) ? message : prefix + message.replace(/^lengthwise: /, '');
    process.stderr.write(`${text}\n`);
    if (code === 2 && e instanceof UsageError) process.stderr.write(`(lengthwise ${spec.name} --help for usage)\n`);
    if (code === 1 && process.env.LENGTHWISE_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return code;
  }
}
