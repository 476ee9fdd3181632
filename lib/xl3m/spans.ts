/** Interval helpers shared by select and keyContext. Segments are sorted by start and by end (as plan makes them). */
import { isInt32Array } from './guards';
import type { Segment } from './plan';

/** Checks `selected` against `count` segments; returns the indices ascending. */
export function sortedSelection(selected: Int32Array, count: number): Int32Array {
  if (!isInt32Array(selected)) throw new TypeError('selected must be an Int32Array of segment indices');
  const out = Int32Array.from(selected).sort();
  for (let i = 0; i < out.length; i++) {
    if (out[i] < 0 || out[i] >= count) {
      throw new RangeError(`selected[${i}] must be a segment index in [0, ${count}), got ${out[i]}`);
    }
    if (i > 0 && out[i] === out[i - 1]) throw new RangeError(`selected contains segment ${out[i]} twice`);
  }
  return out;
}

/** Union of the selected segments as disjoint, ordered ranges (overlapping or touching ranges merged). */
export function mergedRanges(segments: readonly Segment[], ascending: Int32Array): Segment[] {
  const out: Segment[] = [];
  for (const i of ascending) {
    const s = segments[i];
    const last = out[out.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ start: s.start, end: s.end });
  }
  return out;
}

/** Tracks the union of chosen segments; `added(i)` = tokens segment i would add to it. */
export class Coverage {
  private readonly chosen: Uint8Array;
  constructor(private readonly segments: readonly Segment[]) {
    this.chosen = new Uint8Array(segments.length);
  }
  added(i: number): number {
    const seg = this.segments[i];
    // The nearest chosen neighbours cover the most of segment i on each side (starts and ends are monotone).
    let p = i - 1;
    while (p >= 0 && !this.chosen[p]) p--;
    let n = i + 1;
    while (n < this.segments.length && !this.chosen[n]) n++;
    const leftEnd = p >= 0 ? Math.min(Math.max(this.segments[p].end, seg.start), seg.end) : seg.start;
    const rightStart = n < this.segments.length ? Math.max(Math.min(this.segments[n].start, seg.end), seg.start) : seg.end;
    const covered = leftEnd >= rightStart ? seg.end - seg.start : leftEnd - seg.start + (seg.end - rightStart);
    return seg.end - seg.start - covered;
  }
  choose(i: number): void {
    this.chosen[i] = 1;
  }
}
