// Worker bootstrap: compiles the TypeScript sources on require (as bench/run.js does) and runs workerData.script.
'use strict';
const fs = require('fs');
const ts = require('typescript');
const { workerData } = require('worker_threads');

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = (module, filename) => {
    const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: filename,
    });
    module._compile(out.outputText, filename);
  };
}
require(workerData.script);
