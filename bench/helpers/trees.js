'use strict';
// Random draft trees for the tree benches: per request a chain of `depth` nodes under the root, the rest under random
// earlier nodes, siblings with distinct tokens. `random` is the caller's source of uniforms in [0, 1), so each bench
// keeps its own generator (gpu-targets mirrors the GPU check's).
function makeTrees(B, nodes, V, depth, random) {
  const tokens = new Int32Array(B * nodes), parents = new Int32Array(B * nodes), offsets = new Int32Array(B + 1);
  for (let b = 0; b < B; b++) {
    const o = b * nodes;
    offsets[b + 1] = o + nodes;
    for (let i = 0; i < nodes; i++) {
      const par = i === 0 ? -1 : i <= depth ? i - 1 : Math.floor(random() * i);
      let tok = Math.floor(random() * V);
      for (let clash = true; clash && i > 0;) {
        clash = false;
        for (let c = 1; c < i; c++) if (parents[o + c] === par && tokens[o + c] === tok) clash = true;
        if (clash) tok = Math.floor(random() * V);
      }
      tokens[o + i] = tok;
      parents[o + i] = par;
    }
  }
  return { tokens, parents, offsets };
}

module.exports = { makeTrees };
