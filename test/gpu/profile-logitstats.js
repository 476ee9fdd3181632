#!/usr/bin/env node
// One 4096 × 128256 bf16 logitStats call from device memory, for `ncu` (see test/gpu/README.md).
'use strict';
const path = require('path');
const lw = require(path.join(__dirname, '..', '..', 'dist'));
(async () => {
  const rows = 4096, vocab = 128256;
  const d = new Uint16Array(rows * vocab);
  for (let i = 0; i < d.length; i++) d[i] = 0x3f80 + ((i * 2654435761) >>> 25); // bf16 values in [1, 2)·2^k mix
  const t = await lw.device.upload(d);
  for (let k = 0; k < 2; k++) await lw.logitStats({ data: t, dtype: 'bfloat16', rows, vocab });
  t.dispose();
})();
