/**
 * `lengthwise info [--json]`: backend, CPU, and the CUDA diagnosis (driver, required driver, architectures).
 *
 * @packageDocumentation
 */
import { backendInfo } from '../runtime/backend';
import type { Args, CommandSpec } from './framework';

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

async function runInfo(args: Args): Promise<number> {
  const i = backendInfo();
  if (args.json) {
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

/** `lengthwise info`. @internal */
export const command: CommandSpec = {
  name: 'info',
  summary: 'backend, CPU, CUDA driver / runtime / architectures vs devices',
  usage: 'info [--json]',
  description: `Shows the backend calls run on, the CPU pool and SIMD path, and the CUDA side: the NVIDIA driver, the CUDA
runtime the CUDA addon was built with and the driver it needs, the architectures it carries and each device's compute
capability, with the reason when CUDA cannot be used; and where each addon was loaded from.`,
  options: {},
  json: true,
  exits: { 1: 'the CPU addon cannot be loaded (the message says why and how to fix it)' },
  run: runInfo,
};
