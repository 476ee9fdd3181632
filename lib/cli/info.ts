/**
 * `lengthwise info [--json]`: backend, CPU, and the CUDA diagnosis (driver, required driver, architectures).
 *
 * @packageDocumentation
 */
import { backendInfo } from '../runtime/backend';

const HELP = `usage: lengthwise info [--json]

Shows the backend calls run on, the CPU pool and SIMD path, and the CUDA side: the NVIDIA driver, the CUDA runtime the
CUDA addon was built with and the driver it needs, the architectures it carries and each device's compute capability,
with the reason when CUDA cannot be used. Where each addon was loaded from. --json prints the same as JSON.
`;

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** Runs `lengthwise info`. @internal */
export async function runInfo(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--json' && a !== '--help' && a !== '-h');
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (unknown.length > 0) {
    process.stderr.write(`lengthwise info: unknown option '${unknown[0]}'\n${HELP}`);
    return 2;
  }
  const i = backendInfo();
  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify(i, null, 2) + '\n');
    return 0;
  }
  const g = i.gpu;
  const lines = [
    `lengthwise ${i.version}`,
    `backend:  ${i.backend}${i.backend === 'cuda' && i.cudaUnavailable ? ' (requested, but unavailable)' : ''}`,
    `cpu:      ${i.threads} threads, SIMD ${i.simd} (${i.addons.cpu})`,
  ];
  if (g.addonLoaded) {
    lines.push(
      `cuda:     addon built with CUDA ${g.runtimeCuda} (needs driver >= ${g.requiredDriver ?? '?'}), ` +
        `archs ${g.builtArchs.join(' ')} (${i.addons.cuda ?? '?'})`,
    );
    lines.push(
      `driver:   ${g.driverCuda === null ? 'none' : `${g.driverRelease ?? 'release unknown'}, supports CUDA ${g.driverCuda}`}`,
    );
  }
  if (!g.addonLoaded && process.platform === 'linux') {
    lines.push(`driver:   ${g.driverRelease ?? 'none (no NVIDIA driver: /proc/driver/nvidia does not exist)'}`);
  }
  for (const d of g.devices) {
    lines.push(
      `device ${d.index}: ${d.name}, ${gib(d.memoryBytes)}, compute ${d.computeCapability}` +
        (d.supported ? '' : ' (not supported by this build)'),
    );
  }
  if (i.cudaUnavailable) lines.push(`cuda:     unavailable (${i.cudaUnavailable})`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
