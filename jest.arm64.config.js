// The jest run of scripts/test-arm64.sh: the linux-arm64 prebuild under qemu-user with the arm64 Node. Same tests
// and assertions as jest.config.js; what differs, and why:
//  - ts-jest only transpiles (isolatedModules): type checking does not depend on the CPU and `npm run typecheck`
//    does it natively; under emulation it would take minutes per file.
//  - time limits are scaled by LW_TIME_SCALE (default 20: qemu-user runs this code 10-30× slower): the default
//    testTimeout, and each test's own timeout argument (test/helpers/arm64-time-scale.ts).
//  - its own cache directory (the arm64 transforms never mix with the native run's).
const base = require('./jest.config.js');
const os = require('os');
const path = require('path');

const scale = Number(process.env.LW_TIME_SCALE || 20);
module.exports = {
  ...base,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', isolatedModules: true, diagnostics: false }] },
  testTimeout: base.testTimeout * scale,
  setupFilesAfterEnv: [...(base.setupFilesAfterEnv || []), '<rootDir>/test/helpers/arm64-time-scale.ts'],
  cacheDirectory: path.join(os.tmpdir(), 'lengthwise-jest-arm64'),
  maxWorkers: 1,
};
