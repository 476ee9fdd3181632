// Preloaded into a child (`node --require bench/helpers/report-rss.js …`): on exit, prints the process's peak
// resident set (VmHWM from /proc/self/status, kB; process.resourceUsage().maxRSS where /proc is absent) to stderr
// as one line `LENGTHWISE_PEAK_RSS_KB <n>`.
'use strict';
const fs = require('fs');
process.on('exit', () => {
  let kb = process.resourceUsage().maxRSS;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) kb = Number(m[1]);
  } catch {
    // no /proc: maxRSS (kB on Linux and macOS)
  }
  fs.writeSync(2, `LENGTHWISE_PEAK_RSS_KB ${kb}\n`);
});
