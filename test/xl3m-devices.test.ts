// opts.devices of xl3m.score / xl3m.createScorer (multi-GPU split of host logits, core/xl3m_score.cc): the shape
// is validated in TS and again by the addon's shared parser (native/addon/unpack.cc devices_of); the CPU backend
// ignores the list. The split itself is checked natively (test/native/xl3m_devices_check.cc) and on a GPU
// (test/gpu/xl3m-addon.js, test/xl3m-gpu.test.ts).
import { createScorer, score } from '../lib/xl3m/score';
import { nativeFunction } from '../lib/runtime/native';
import { wideLogits } from './helpers/logits';
import { rng } from './helpers/rng';

const S = 7, P = 3, V = 1000, rows = S * P;
const data = wideLogits('float32', rows * V, rng(21)) as Float32Array;
const logits = { data, rows, vocab: V };
const r = rng(5);
const targets = Int32Array.from({ length: rows }, () => Math.floor(r() * V));

describe('xl3m opts.devices validation', () => {
  const T = 'TypeError', R = 'RangeError';
  test.each([
    ['gpu', T, /opts\.devices must be 'all' or a non-empty array of device ordinals/],
    [[], T, /opts\.devices must be 'all' or a non-empty array/],
    [{}, T, /opts\.devices must be/],
    [0, T, /opts\.devices must be/],
    [['0'], T, /opts\.devices\[0\] must be an integer/],
    [[0, -1], R, /opts\.devices\[1\] must be an integer in \[0, 1023\]/],
    [[0.5], R, /opts\.devices\[0\] must be an integer/],
    [[1024], R, /opts\.devices\[0\]/],
    [[NaN], R, /opts\.devices\[0\]/],
  ])('score: devices = %p is a %s naming opts.devices', async (devices, name, message) => {
    const p = score(logits, { segments: S, backend: 'cpu', devices: devices as unknown as number[] });
    await expect(p).rejects.toThrow(message);
    await expect(p).rejects.toMatchObject({ name, code: name === T ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE' });
  });

  test('createScorer validates devices up front', () => {
    expect(() => createScorer({ segments: S, positionsPerSegment: P, devices: [] })).toThrow(/opts\.devices/);
    expect(() => createScorer({ segments: S, positionsPerSegment: P, devices: [-2] })).toThrow(RangeError);
    expect(() => createScorer({ segments: S, positionsPerSegment: P, devices: ['a'] as unknown as number[] })).toThrow(TypeError);
    expect(() => createScorer({ segments: S, positionsPerSegment: P, devicse: [0] } as never)).toThrow(/devices/);
  });

  // The addon's own parser (the last line of defence, shared with scaling.fit): a raw call with every other key valid.
  const raw = (devices: unknown) =>
    nativeFunction('cpu', 'xl3mScore')({ ...logits, dtype: 'float32' }, {
      segments: S, positions: P, metric: 'entropy', pooling: 'mean', targets: undefined, temperature: 1, backend: 'cpu',
      cancel: new Int32Array(1), devices: devices as number[],
    });
  test.each([
    [[], 'RangeError', 'opts.devices must list at least one device'],
    [[0, 'x'], 'TypeError', 'opts.devices[1] must be a device ordinal'],
    [[-1], 'RangeError', 'opts.devices[0] must be an integer >= 0 (a device ordinal)'],
    [[1.5], 'RangeError', 'opts.devices[0] must be an integer >= 0 (a device ordinal)'],
    [[2 ** 31], 'RangeError', 'opts.devices[0] must be an integer >= 0 (a device ordinal)'],
  ])('addon: devices = %p → %s', (devices, name, message) => {
    // Addon errors come from the main realm (not jest's): compare name and message, not the constructor.
    expect(() => raw(devices)).toThrow(expect.objectContaining({ name, message }));
  });
});

describe('xl3m opts.devices on the CPU backend', () => {
  test.each([['entropy'], ['nll']] as const)('%s: ignored (same scores as without, lists with any ordinal)', async (metric) => {
    const o = { segments: S, metric, targets, backend: 'cpu' as const };
    const base = await score(logits, o);
    for (const devices of ['all', [0], [0, 0], [3, 1, 7]] as const) {
      const got = await score(logits, { ...o, devices });
      expect(Array.from(got)).toEqual(Array.from(base));
    }
    const sc = createScorer({ segments: S, positionsPerSegment: P, metric, backend: 'cpu', devices: [0, 5] });
    await sc.push({ data: data.subarray(0, 10 * V), rows: 10, vocab: V }, targets.subarray(0, 10));
    await sc.push({ data: data.subarray(10 * V), rows: rows - 10, vocab: V }, targets.subarray(10));
    expect(Array.from(sc.finish())).toEqual(Array.from(base));
  });
});
