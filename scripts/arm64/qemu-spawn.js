// Preloaded (NODE_OPTIONS=--require) into the arm64 Node that scripts/test-arm64.sh runs under qemu-user. A child
// started with process.execPath (the tests' CLI, bench and fresh-environment runs) is an aarch64 ELF that the x86
// kernel cannot exec without a binfmt_misc handler, so those spawns go through qemu here instead (nothing is
// registered system-wide). The child's own `timeout` option is scaled by LW_TIME_SCALE, as jest.arm64.config.js
// scales the tests' time limits, since the child is emulated too. Active only in an arm64 process with LW_QEMU set;
// children inherit NODE_OPTIONS and LW_QEMU, so their children are wrapped as well.
'use strict';
const qemu = process.env.LW_QEMU;
if (qemu && process.arch === 'arm64') {
  const cp = require('child_process');
  const sysroot = process.env.QEMU_LD_PREFIX || '/usr/aarch64-linux-gnu';
  const scale = Number(process.env.LW_TIME_SCALE || 20);
  const wrap = (name) => {
    const original = cp[name];
    cp[name] = function wrapped(file, ...rest) {
      if (file !== process.execPath) return original.call(this, file, ...rest);
      const args = Array.isArray(rest[0]) ? rest.shift() : [];
      const opts = rest[0] && typeof rest[0] === 'object' ? { ...rest.shift() } : null;
      if (opts && typeof opts.timeout === 'number' && opts.timeout > 0) opts.timeout *= scale;
      return original.call(this, qemu, ['-L', sysroot, process.execPath, ...args], ...(opts ? [opts] : []), ...rest);
    };
  };
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) wrap(name);
}
