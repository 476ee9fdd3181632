import { scaling } from '../lib';
import { describeGpu } from './helpers/gpu';

// Runs only where the CUDA addon sees a device (test/gpu/scaling.sh covers the 18M-fit timing).

describeGpu('scaling.fit on CUDA', () => {
  const runs = scaling.chinchillaRuns();

  test.each(['huber', 'mse', 'huber-likelihood'] as const)('%s: same optimum as the CPU', async (objective) => {
    const c = await scaling.fit(runs, { objective, backend: 'cpu' });
    const g = await scaling.fit(runs, { objective, backend: 'cuda' });
    expect(Math.abs(g.objective - c.objective) / Math.abs(c.objective)).toBeLessThan(1e-9);
    for (const k of ['A', 'B', 'E', 'alpha', 'beta'] as const) {
      expect(Math.abs(g.params[k] - c.params[k]) / Math.abs(c.params[k])).toBeLessThan(1e-4);
    }
    expect(g.starts).toBe(4500);
  });

  test('bootstrap with the grid per resample agrees with the CPU; abort works', async () => {
    const boot = { resamples: 4, seed: 5, gridPerResample: true };
    const c = await scaling.fit(runs, { backend: 'cpu', bootstrap: boot });
    const g = await scaling.fit(runs, { backend: 'cuda', bootstrap: boot });
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(g.bootstrap!.samples.alpha![i]! - c.bootstrap!.samples.alpha![i]!)).toBeLessThan(1e-4);
    }
    const ac = new AbortController();
    const p = scaling.fit(runs, { backend: 'cuda', bootstrap: { resamples: 4000, seed: 1, gridPerResample: true }, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  test('a bootstrap split over devices (every one, or device 0 twice) gives the one-device result exactly', async () => {
    const boot = { resamples: 7, seed: 3, gridPerResample: false };
    const one = await scaling.fit(runs, { backend: 'cuda', bootstrap: boot, devices: [0] });
    for (const devices of ['all', [0, 0], [0, 0, 0]] as const) {
      const g = await scaling.fit(runs, { backend: 'cuda', bootstrap: boot, devices });
      expect(Array.from(g.bootstrap!.samples.alpha!)).toEqual(Array.from(one.bootstrap!.samples.alpha!));
      expect(g.objective).toBe(one.objective);
    }
    await expect(scaling.fit(runs, { backend: 'cuda', bootstrap: boot, devices: [1000] })).rejects.toMatchObject({
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
    });
  });
});
