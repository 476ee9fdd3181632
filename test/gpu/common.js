// Shared by the node GPU scripts (no jest on the GPU machine): random bf16 logits (from dist/) and medians.
'use strict';

const path = require('path');
const dist = path.join(__dirname, '..', '..', 'dist');
const { toBf16 } = require(path.join(dist, 'runtime', 'dtype'));
const { lcg, uniformLogits } = require(path.join(dist, 'runtime', 'prng'));

/** n bfloat16 words of uniform values in [-8, 8) from lcg(seed) (lib/prng, lib/dtype). */
function bf16Random(n, seed) {
  return toBf16(uniformLogits(n, lcg(seed)));
}

const median = (xs) => Array.from(xs).sort((x, y) => x - y)[xs.length >> 1];

module.exports = { bf16Random, median };
