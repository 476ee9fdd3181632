#!/usr/bin/env node
// Prints the native sources of the given groups (from native/sources.json, the one source list), space-separated,
// for binding.gyp. CMakeLists.txt reads the same file itself; scripts/checks.js requires this module.
'use strict';
const path = require('path');
const list = require(path.join(__dirname, '..', 'native', 'sources.json'));

function files(groups) {
  const out = [];
  for (const g of groups) {
    if (!Array.isArray(list[g])) throw new Error(`native/sources.json has no group "${g}"`);
    out.push(...list[g]);
  }
  return out;
}

module.exports = { list, files };

if (require.main === module) process.stdout.write(files(process.argv.slice(2)).join(' '));
