/**
 * @internal Formats any value for an error message without throwing (detached typed arrays, bigints, symbols
 * and null-prototype objects break String() / JSON.stringify / template literals).
 *
 * @packageDocumentation
 */
export function show(v: unknown): string {
  try {
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol' || typeof v === 'function') return typeof v;
    if (v === null || typeof v !== 'object') return String(v);
    if (ArrayBuffer.isView(v)) {
      const name = (v as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] ?? 'DataView';
      return v.buffer.byteLength === 0 && v.byteLength === 0 ? `${name}(0)` : `${name}(${(v as { length?: number }).length ?? v.byteLength})`;
    }
    return Array.isArray(v) ? `an array of ${v.length}` : 'an object';
  } catch {
    return 'an unprintable value';
  }
}
