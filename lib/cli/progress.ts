/**
 * A small progress bar on stderr (only drawn on a TTY; otherwise silent until done).
 *
 * @packageDocumentation
 */

/** A progress bar for one task. */
export class ProgressBar {
  private last = -1;
  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Redraws the bar at `done` of `total`. */
  update(done: number, total: number): void {
    if (!this.stream.isTTY || total <= 0) return;
    const frac = Math.min(1, Math.max(0, done / total));
    const pct = Math.floor(frac * 100);
    if (pct === this.last) return;
    this.last = pct;
    const width = 28;
    const fill = Math.round(frac * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}%`);
  }

  /** Completes the bar and ends the line. */
  done(note = ''): void {
    if (this.stream.isTTY) {
      this.update(1, 1);
      this.stream.write(note ? ` ${note}\n` : '\n');
    }
  }
}
