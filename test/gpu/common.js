// Shared by the node GPU scripts (no jest on the GPU machine): random bf16 logits and medians.
'use strict';

/** n bfloat16 words of uniform values in [-8, 8) from a fixed LCG. */
function bf16Random(n, seed) {
  const out = new Uint16Array(n);
  let a = seed >>> 0;
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    f[0] = (a / 4294967296) * 16 - 8;
    out[i] = ((u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

const median = (xs) => Array.from(xs).sort((x, y) => x - y)[xs.length >> 1];

module.exports = { bf16Random, median };
