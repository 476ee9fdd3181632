/**
 * AbortSignal → a native cancel flag: an Int32Array(1) the native code polls, set by the signal's listener.
 *
 * @packageDocumentation
 */
import { invalidType, withCode } from './validate';

/** @internal */
export interface CancelLink {
  flag: Int32Array | undefined;
  dispose(): void;
}

const UNLINKED: CancelLink = { flag: undefined, dispose: () => undefined };

/** @internal The error an aborted call rejects with: the signal's reason, or an AbortError with code ABORT_ERR. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = withCode(new Error('The operation was aborted'), 'ABORT_ERR');
  err.name = 'AbortError';
  return err;
}

/** @internal Throws if `signal` is already aborted; otherwise links it to a fresh flag (none without a signal). */
export function linkSignal(signal: AbortSignal | undefined): CancelLink {
  if (signal === undefined) return UNLINKED;
  if (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean') {
    throw invalidType('opts.signal', 'an AbortSignal', signal);
  }
  if (signal.aborted) throw abortError(signal);
  const flag = new Int32Array(1);
  const onAbort = () => Atomics.store(flag, 0, 1);
  signal.addEventListener('abort', onAbort, { once: true });
  return { flag, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * @internal Errors thrown by the addon are created in Node's main realm; re-create RangeError/TypeError in this
 * realm (matters under vm contexts such as jest) and keep their `code`.
 */
export function fromNative(err: unknown): unknown {
  if (typeof err !== 'object' || err === null || !('message' in err) || !('name' in err)) return err;
  const e = err as Error & { code?: string };
  if (e instanceof RangeError || e instanceof TypeError) return e;
  let out: Error & { code?: string };
  if (e.name === 'RangeError') out = new RangeError(e.message);
  else if (e.name === 'TypeError') out = new TypeError(e.message);
  else return e;
  if (e.code !== undefined) out.code = e.code;
  return out;
}

/** @internal Runs a native call with a cancel flag linked to `signal`; maps native aborts to the signal's reason. */
export async function withSignal<T>(signal: AbortSignal | undefined, run: (flag: Int32Array | undefined) => Promise<T>): Promise<T> {
  const link = linkSignal(signal);
  try {
    return await run(link.flag);
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw fromNative(err);
  } finally {
    link.dispose();
  }
}
