/** Interval helpers shared by select and keyContext. Segments are sorted by start and by end (as plan makes them). */
import { outOfRange, rangeError, typedArray } from '../runtime/validate';
import type { Segment } from './plan';

/** Checks `selected` against `count` segments; returns the indices ascending. */
export function sortedSelection(selected: Int32Array, count: number): Int32Array {
  const out = Int32Array.from(typedArray(selected, 'selected', 'Int32Array')).sort();
  for (let i = 0; i < out.length; i++) {
    if (out[i] < 0 || out[i] >= count) throw outOfRange(`selected[${i}]`, `a segment index in [0, ${count})`, out[i]);
    if (i > 0 && out[i] === out[i - 1]) throw rangeError(`selected contains segment ${out[i]} twice`);
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

/** Tracks the union of chosen segments; `added(i)` = tokens segment i would add to it. O(log n) per call. */
export class Coverage {
  private readonly tree: Int32Array; // Fenwick tree of chosen flags (1-based)
  private readonly size: number;
  private readonly top: number;
  private chosenCount = 0;
  constructor(private readonly segments: readonly Segment[]) {
    this.size = segments.length;
    this.tree = new Int32Array(this.size + 1);
    let top = 1;
    while (top * 2 <= this.size) top *= 2;
    this.top = top;
  }
  /** Chosen segments among indices [0, i). */
  private prefix(i: number): number {
    let s = 0;
    for (let j = i; j > 0; j -= j & -j) s += this.tree[j]!;
    return s;
  }
  /** Index of the k-th chosen segment (1-based k). */
  private kth(k: number): number {
    let pos = 0;
    for (let step = this.top; step > 0; step >>= 1) {
      if (pos + step <= this.size && this.tree[pos + step]! < k) {
        pos += step;
        k -= this.tree[pos]!;
      }
    }
    return pos; // 0-based index of the k-th one
  }
  added(i: number): number {
    const seg = this.segments[i]!;
    // The nearest chosen neighbours cover the most of segment i on each side (starts and ends are monotone).
    // i itself is not chosen, so the successor is the (before + 1)-th chosen segment.
    const before = this.prefix(i);
    const p = before > 0 ? this.segments[this.kth(before)]! : undefined;
    const n = before < this.chosenCount ? this.segments[this.kth(before + 1)]! : undefined;
    const leftEnd = p ? Math.min(Math.max(p.end, seg.start), seg.end) : seg.start;
    const rightStart = n ? Math.max(Math.min(n.start, seg.end), seg.start) : seg.end;
    const covered = leftEnd >= rightStart ? seg.end - seg.start : leftEnd - seg.start + (seg.end - rightStart);
    return seg.end - seg.start - covered;
  }
  choose(i: number): void {
    for (let j = i + 1; j <= this.size; j += j & -j) this.tree[j]!++;
    this.chosenCount++;
  }
}
