/**
 * XL3M step 2: score each segment by the model's certainty on the question — one fused pass over the logits of
 * the scored positions (segments × positionsPerSegment rows), pooled per segment, never materialising
 * probabilities. Also as a streaming scorer for logits that arrive in chunks.
 */
import { withSignal } from '../runtime/abort';
import { Logits, checkTokenIds, normalizeLogits } from '../logits';
import { BackendChoice, NativeTuning, backendForCall, nativeFunction } from '../runtime/native';
import { deviceList, integer, lwError, number, oneOf, optionKeys, options, rangeError, typeError } from '../runtime/validate';

/** Per-row certainty measure. 'entropy': H(p) of the predictive distribution; 'nll': −log p(target). */
export type Xl3mMetric = 'entropy' | 'nll';
/** How a segment's rows combine: their mean, the last row, or the minimum. */
export type Xl3mPooling = 'mean' | 'last' | 'min';

/** Options of {@link score}. */
export interface ScoreOptions {
  /** Number of segments S; logits.rows must be S × positionsPerSegment (rows of segment i are consecutive). */
  segments: number;
  /** Default 'entropy' (XL3M); 'nll' of the question tokens is LongLLMLingua's coarse score. */
  metric?: Xl3mMetric;
  /** Token each row predicts (one per row), required for 'nll'. */
  targets?: Int32Array;
  /** Default 'mean'. */
  pooling?: Xl3mPooling;
  /** Divides the logits first (> 0, default 1). */
  temperature?: number;
  /** 'cpu', 'cuda' or 'auto'. Device data always runs on CUDA. */
  backend?: BackendChoice;
  /**
   * CUDA devices to split host logits over (absent: every visible GPU for large calls). Each GPU scores a
   * contiguous range of rows exactly as one GPU would, so the scores do not depend on the list. Absent or 'all':
   * every visible GPU once the host logits hold 64 MiB (counted per block of 2^16 rows), else device 0; a list always
   * splits over those devices (one listed twice takes two ranges concurrently). Ignored by the CPU backend;
   * device-resident logits run on their own device, and giving a list with them is a RangeError.
   */
  devices?: 'all' | readonly number[];
  /** Aborts the call (the promise rejects with an AbortError). */
  signal?: AbortSignal;
  /** @internal Forces native code paths (tests and benchmarks). */
  tuning?: NativeTuning;
}

/** Options of {@link createScorer}. */
export interface ScorerOptions {
  /** Number of segments S the scorer will receive in all (integer ≥ 1). */
  segments: number;
  /** Scored positions (rows) per segment. */
  positionsPerSegment: number;
  /** Default 'entropy' (XL3M); 'nll' needs `targets` with every pushed chunk. */
  metric?: Xl3mMetric;
  /** Pooling over a segment's positions: 'mean' (default), 'last' or 'min'. */
  pooling?: Xl3mPooling;
  /** Divides the logits first (> 0, default 1). */
  temperature?: number;
  /** 'cpu', 'cuda' or 'auto'. Device data always runs on CUDA. */
  backend?: BackendChoice;
  /**
   * CUDA devices to split host logits over (absent: every visible GPU for large calls), per push: as
   * {@link ScoreOptions.devices}. A push of device-resident logits with a list is a RangeError.
   */
  devices?: 'all' | readonly number[];
  /** @internal Forces native code paths (tests and benchmarks). */
  tuning?: NativeTuning;
}

/** A streaming scorer: push the rows in order, in chunks of any size, then finish. */
export interface Xl3mScorer {
  /**
   * Folds the next `chunk.rows` rows (global rows continue where the previous push ended; a chunk may start or
   * end inside a segment). `targets` (one per chunk row) is required for 'nll'. Pushes apply in call order.
   */
  push(chunk: Logits, targets?: Int32Array, opts?: { signal?: AbortSignal }): Promise<void>;
  /** The scores (one per segment). Throws unless every row was pushed and every push has settled. */
  finish(): Float32Array;
  /** Rows accepted so far (including pushes still in flight). */
  readonly rowsPushed: number;
  /** segments × positionsPerSegment. */
  readonly rowsExpected: number;
}

const METRICS = ['entropy', 'nll'] as const satisfies readonly Xl3mMetric[];
const POOLINGS = ['mean', 'last', 'min'] as const satisfies readonly Xl3mPooling[];
const SCORE_KEYS = optionKeys<ScoreOptions>({
  segments: 1, metric: 1, targets: 1, pooling: 1, temperature: 1, backend: 1, devices: 1, signal: 1, tuning: 1,
});
const SCORER_KEYS = optionKeys<ScorerOptions>({
  segments: 1, positionsPerSegment: 1, metric: 1, pooling: 1, temperature: 1, backend: 1, devices: 1, tuning: 1,
});
const PUSH_KEYS = optionKeys<{ signal?: AbortSignal }>({ signal: 1 });

const metricOf = (v: unknown): Xl3mMetric => oneOf(v ?? 'entropy', 'opts.metric', METRICS);
const poolingOf = (v: unknown): Xl3mPooling => oneOf(v ?? 'mean', 'opts.pooling', POOLINGS);
const temperatureOf = (v: unknown): number => number(v ?? 1, 'opts.temperature', { min: 0, minExclusive: true });
// Device-resident logits live on one device: a device list cannot split them (core/xl3m_score.cc says the same).
function checkDevicesFor(devices: number[] | undefined, onDevice: boolean): void {
  if (devices && onDevice) throw rangeError('opts.devices applies to host logits; device data runs on its own device');
}

/**
 * Scores segments from the logits at their scored positions. Row r belongs to segment ⌊r / P⌋ with
 * P = rows / segments. Per row, with p = softmax(x / T):
 * - entropy: H = −Σ p log p = logsumexp(x/T) − E_p[x/T]
 * - nll: −log p(target) = logsumexp(x/T) − x_target/T
 *
 * and per segment, pooled over its P rows: mean (sum in float64), last, or min. Lower = more relevant. Rows are
 * streamed once in fp32 with a running max; results match float64 to ~1e-5 nats. A row containing NaN gives a
 * NaN score (ranked last by {@link select}); a row of all −Infinity is a RangeError. Extra memory is O(segments).
 *
 * @throws TypeError / RangeError for malformed logits, rows not a multiple of segments, missing or
 *   out-of-range targets for 'nll', or a bad option.
 */
export async function score(logits: Logits, opts: ScoreOptions): Promise<Float32Array> {
  const o = options<ScoreOptions>(opts, 'opts', SCORE_KEYS, true);
  const l = normalizeLogits(logits, 'logits');
  const segments = integer(o.segments, 'opts.segments', { min: 1 });
  const rows = l.native.rows;
  if (rows === 0 || rows % segments !== 0) {
    throw rangeError(`logits.rows (${rows}) must be segments (${segments}) × positionsPerSegment (an integer >= 1)`);
  }
  const metric = metricOf(o.metric);
  const pooling = poolingOf(o.pooling);
  const temperature = temperatureOf(o.temperature);
  let targets: Int32Array | undefined;
  if (metric === 'nll' && o.targets === undefined) throw typeError("opts.targets (Int32Array, one per row) is required for metric 'nll'");
  if (o.targets !== undefined) targets = checkTokenIds(o.targets, 'opts.targets', rows, l.native.vocab);
  const devices = deviceList(o.devices);
  checkDevicesFor(devices, l.onDevice);
  const backend = backendForCall(o.backend, l.onDevice);
  const run = nativeFunction(backend, 'xl3mScore');
  return withSignal(o.signal, (cancel) =>
    run(l.native, {
      segments,
      positions: rows / segments,
      metric,
      pooling,
      targets: metric === 'nll' ? targets : undefined,
      temperature,
      backend,
      cancel,
      tuning: opts.tuning,
      ...(devices ? { devices } : {}),
    }),
  );
}

class Scorer implements Xl3mScorer {
  readonly rowsExpected: number;
  private pushed = 0;
  private pending = 0;
  private vocab = -1;
  private failure: unknown = undefined;
  private tail: Promise<void> = Promise.resolve();
  private readonly state: Float64Array;
  private readonly segments: number;
  private readonly positions: number;
  private readonly metric: Xl3mMetric;
  private readonly pooling: Xl3mPooling;
  private readonly temperature: number;
  private readonly backend: BackendChoice | undefined;
  private readonly devices: number[] | undefined;
  private readonly tuning: NativeTuning | undefined;

  constructor(opts: ScorerOptions) {
    const o = options<ScorerOptions>(opts, 'opts', SCORER_KEYS, true);
    // The O(segments) native state is allocated up front: bound it (a failed allocation would abort the process).
    this.segments = integer(o.segments, 'opts.segments', { min: 1, max: 2 ** 24 });
    this.positions = integer(o.positionsPerSegment, 'opts.positionsPerSegment', { min: 1 });
    this.rowsExpected = this.segments * this.positions;
    if (!Number.isSafeInteger(this.rowsExpected) || this.rowsExpected > 2 ** 48) {
      throw rangeError(`opts.segments × opts.positionsPerSegment is too large (${this.segments} × ${this.positions})`);
    }
    this.metric = metricOf(o.metric);
    this.pooling = poolingOf(o.pooling);
    this.temperature = temperatureOf(o.temperature);
    this.backend = o.backend;
    this.devices = deviceList(o.devices);
    this.tuning = o.tuning;
    this.state = nativeFunction('cpu', 'xl3mInit')(this.segments);
  }

  get rowsPushed(): number {
    return this.pushed;
  }

  push(chunk: Logits, targets?: Int32Array, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      if (this.failure !== undefined) throw lwError('ERR_LENGTHWISE_STATE', 'this scorer failed on an earlier push; create a new one');
      const o = options<{ signal?: AbortSignal }>(opts, 'opts', PUSH_KEYS);
      const l = normalizeLogits(chunk, 'chunk');
      const rows = l.native.rows;
      if (this.vocab >= 0 && l.native.vocab !== this.vocab) {
        throw rangeError(`chunk.vocab (${l.native.vocab}) differs from earlier chunks (${this.vocab})`);
      }
      if (this.pushed + rows > this.rowsExpected) {
        throw rangeError(`chunk.rows (${rows}) exceeds the ${this.rowsExpected - this.pushed} rows still expected`);
      }
      if (this.metric === 'nll' && targets === undefined) throw typeError("targets (Int32Array, one per chunk row) is required for metric 'nll'");
      const t = targets === undefined ? undefined : checkTokenIds(targets, 'targets', rows, l.native.vocab);
      checkDevicesFor(this.devices, l.onDevice);
      const backend = backendForCall(this.backend, l.onDevice);
      const run = nativeFunction(backend, 'xl3mPush');
      this.vocab = l.native.vocab;
      const rowOffset = this.pushed;
      this.pushed += rows;
      this.pending++;
      const job = this.tail.then(() =>
        withSignal(o.signal, (cancel) =>
          run(l.native, {
            segments: this.segments,
            positions: this.positions,
            metric: this.metric,
            pooling: this.pooling,
            targets: this.metric === 'nll' ? t : undefined,
            temperature: this.temperature,
            rowOffset,
            state: this.state,
            backend,
            cancel,
            tuning: this.tuning,
            ...(this.devices ? { devices: this.devices } : {}),
          }),
        ),
      );
      const settled = job.then(
        () => {
          this.pending--;
        },
        (err: unknown) => {
          this.pending--;
          if (this.failure === undefined) this.failure = err;
          throw err;
        },
      );
      this.tail = settled.catch(() => undefined);
      return settled;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  finish(): Float32Array {
    if (this.failure !== undefined) throw lwError('ERR_LENGTHWISE_STATE', 'this scorer failed on an earlier push; its state is incomplete');
    if (this.pending > 0) throw lwError('ERR_LENGTHWISE_STATE', 'finish() called while pushes are in flight: await every push() first');
    if (this.pushed !== this.rowsExpected) {
      throw rangeError(`finish() after ${this.pushed} of ${this.rowsExpected} rows: push every row first`);
    }
    return nativeFunction('cpu', 'xl3mFinish')(this.state, {
      segments: this.segments,
      positions: this.positions,
      pooling: this.pooling,
    });
  }
}

/**
 * A streaming scorer equal to {@link score} on the concatenation of the pushed chunks — bit for bit on the CPU
 * backend, for any chunking (rows are reduced in fixed column slices). Its state is O(segments): a 20M-token
 * context can be scored batch by batch as the model produces logits.
 *
 * @example
 * ```ts
 * const s = xl3m.createScorer({ segments: 512, positionsPerSegment: 32 });
 * for await (const batch of modelBatches) await s.push(batch.logits);
 * const scores = s.finish();
 * ```
 */
export function createScorer(opts: ScorerOptions): Xl3mScorer {
  return new Scorer(opts);
}
