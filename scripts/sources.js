#!/usr/bin/env node
// Prints the native sources of the given groups (from native/sources.json, the one source list), space-separated,
// for binding.gyp. CMakeLists.txt reads the same file itself.
'use strict';
const path = require('path');
const list = require(path.join(__dirname, '..', 'native', 'sources.json'));
const groups = process.argv.slice(2);
const files = [];
for (const g of groups) {
  if (!Array.isArray(list[g])) throw new Error(`native/sources.json has no group "${g}"`);
  files.push(...list[g]);
}
process.stdout.write(files.join(' '));
