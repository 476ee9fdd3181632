#!/usr/bin/env node
// Runs a TypeScript bench script straight from the sources: `node bench/run.js bench/specdec-sim.ts [args]`.
// Each .ts file is transpiled on require (no type check; `npm run typecheck` covers bench/).
'use strict';
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(out.outputText, filename);
};

const script = process.argv[2];
if (!script) {
  console.error('usage: node bench/run.js <script.ts> [args...]');
  process.exit(2);
}
process.argv.splice(1, 1);
require(path.resolve(script));
