/**
 * A small progress bar on stderr for long CLI jobs: bar, count of total, rate and ETA. Drawn only on a TTY (at most
 * ~10 redraws a second); elsewhere silent, so logs and pipes stay clean.
 *
 * @packageDocumentation
 */

/** Options of {@link ProgressBar}. */
export interface ProgressOptions {
  /** What is counted ('starts', 'rows', 'MB'…). */
  unit?: string;
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Formats a count (default: integers with thousands separators). */
  format?: (n: number) => string;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** A duration in s / m:ss / h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/** One line of progress: `label [####....] done/total unit  rate unit/s  ETA t`. @internal */
export function progressLine(label: string, done: number, total: number, elapsedS: number, unit = '', format = count): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const width = 24;
  const fill = Math.round(frac * width);
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  const eta = rate > 0 ? (total - done) / rate : NaN;
  const u = unit ? ` ${unit}` : '';
  return `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}% ` +
    `${format(done)}/${format(total)}${u}  ${rate > 0 ? `${format(rate)}${u}/s` : '-'}  ETA ${done >= total ? '0s' : formatDuration(eta)}`;
}

/** A progress bar for one task. */
export class ProgressBar {
  private readonly t0 = process.hrtime.bigint();
  private lastDraw = 0;
  private drawn = false;
  private lastDone = 0;
  private lastTotal = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly unit: string;
  private readonly format: (n: number) => string;

  constructor(
    private readonly label: string,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.unit = opts.unit ?? '';
    this.format = opts.format ?? count;
  }

  private elapsed(): number {
    return Number(process.hrtime.bigint() - this.t0) / 1e9;
  }

  /** Redraws the bar at `done` of `total` (throttled). */
  update(done: number, total: number): void {
    this.lastDone = done;
    this.lastTotal = total;
    if (!this.stream.isTTY || total <= 0) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream.write(`\r${progressLine(this.label, done, total, this.elapsed(), this.unit, this.format)}\x1b[K`);
  }

  /** Completes the bar and ends the line (with `note`), if one was drawn. */
  done(note = ''): void {
    if (!this.stream.isTTY || !this.drawn) return;
    const total = this.lastTotal || this.lastDone;
    this.stream.write(`\r${progressLine(this.label, total, total, this.elapsed(), this.unit, this.format)} in ` +
      `${formatDuration(this.elapsed())}${note ? ` ${note}` : ''}\x1b[K\n`);
  }
}
