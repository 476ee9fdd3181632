#!/usr/bin/env node
// After the TypeScript build: make dist/cli.js executable and, in a checkout, link node_modules/.bin/lengthwise to
// it, so `npx lengthwise …` runs this checkout's CLI (npm links bins only for dependencies, not for the root).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
fs.chmodSync(cli, 0o755);
const binDir = path.join(root, 'node_modules', '.bin');
if (fs.existsSync(path.join(root, 'node_modules'))) {
  fs.mkdirSync(binDir, { recursive: true });
  const link = path.join(binDir, 'lengthwise');
  try {
    fs.unlinkSync(link);
  } catch {
    // not there yet
  }
  fs.symlinkSync(path.relative(binDir, cli), link);
}
