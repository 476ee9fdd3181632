/**
 * `OnnxModel`: a {@link ModelAdapter} over an ONNX Runtime session with lengthwise's model interface
 * (MODEL_INTERFACE.md): inputs `input_ids`, `position_ids`, `attention_bias`, `past_key_values.{i}.key|value`;
 * outputs `logits`, `present.{i}.key|value`; KV `[B, H, P, Dh]` float32, stored after RoPE.
 *
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Logits } from '../logits';
import type { AttentionBias, ForwardResult, ModelAdapter } from '../speculative/adapter';
import { show } from '../runtime/show';
import { type OrtSession, type OrtTensor, type OrtValueMetadata, loadOrt } from './runtime';
import { rangeError, typeError } from '../runtime/validate';

/** What the adapter knows about a model: its sidecar `<name>.json` merged with the graph's metadata. */
export interface ModelInfo {
  /** Model name (used in error messages). */
  name: string;
  /** Transformer layers (one key and one value cache tensor each). */
  layers: number;
  /** KV heads (H of the cache). */
  kvHeads: number;
  /** Per-head dimension D of the cache. */
  headDim: number;
  /** Vocabulary size (logits row length). */
  vocab: number;
  /** Positions the model was trained on (P + S ≤ window). */
  window?: number;
  /** Beginning-of-sequence token id, when the model has one. */
  bosId?: number;
  /** End-of-sequence token id, when the model has one. */
  eosId?: number;
  /** Token id fed to padding rows of a ragged batch (default 0). */
  padId?: number;
  /** Attention-bias value that masks a column (default −1e9; finite). */
  maskValue?: number;
  /** Tokenizer the model was trained with, e.g. `"llama-tokenizer-js"`. */
  tokenizer?: string;
  /** Vocabulary size of that tokenizer (default `vocab`); checked against the tokenizer given to the model. */
  tokenizerVocab?: number;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Sidecar path or object (default: `<path without .onnx>.json` when it exists). */
  sidecar?: string | Partial<ModelInfo>;
  /** ONNX Runtime intra-op threads (default: ORT's choice). */
  threads?: number;
  /** Execution providers (default `['cpu']`). */
  executionProviders?: string[];
}

/** The cache of an {@link OnnxModel}: one key and one value tensor per layer, `[B, H, P, Dh]` float32. */
export interface OnnxCache {
  /** Per layer, the keys `[batch, kvHeads, columns, headDim]` row-major, stored rotated at their own positions. */
  keys: Float32Array[];
  /** Per layer, the values `[batch, kvHeads, columns, headDim]` row-major. */
  values: Float32Array[];
  /** Batch items B. */
  batch: number;
  /** Cached positions per item P. */
  columns: number;
}

const INPUTS = ['input_ids', 'position_ids', 'attention_bias'];

// ORT's native outputs are typed arrays of Node's main realm, while onnxruntime-common checks inputs with
// `instanceof` in the realm it was loaded in (another one under vm-based runners such as jest): every array
// handed to ORT is re-viewed (no copy) with this module's constructors.
function f32(a: ArrayBufferView & { length: number }): Float32Array {
  return a instanceof Float32Array ? a : new Float32Array(a.buffer as ArrayBuffer, a.byteOffset, a.length);
}

function int64(a: Int32Array): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]!);
  return out;
}

function metaOf(list: readonly OrtValueMetadata[] | undefined, name: string): OrtValueMetadata | undefined {
  return list?.find((m) => m.name === name);
}

function staticDim(m: OrtValueMetadata | undefined, axis: number): number | undefined {
  const d = m?.shape?.[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function readSidecar(path: string, sidecar: LoadModelOptions['sidecar']): Partial<ModelInfo> {
  if (sidecar !== undefined && typeof sidecar === 'object') return sidecar;
  const file = typeof sidecar === 'string' ? sidecar : path.replace(/\.onnx$/i, '') + '.json';
  if (!existsSync(file)) {
    if (typeof sidecar === 'string') throw rangeError(`sidecar ${show(file)} does not exist`);
    return {};
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<ModelInfo>;
  } catch (err) {
    throw rangeError(`sidecar ${show(file)} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * @internal Checks a session's interface and derives its {@link ModelInfo}.
 * @throws TypeError naming each missing input/output; RangeError when the sidecar and the graph disagree.
 */
export function describeSession(session: OrtSession, label: string, side: Partial<ModelInfo>): ModelInfo {
  const ins = new Set(session.inputNames);
  const outs = new Set(session.outputNames);
  let layers = 0;
  while (ins.has(`past_key_values.${layers}.key`)) layers++;
  const missing: string[] = [];
  for (const n of INPUTS) if (!ins.has(n)) missing.push(`input '${n}'`);
  if (!outs.has('logits')) missing.push("output 'logits'");
  if (layers === 0) missing.push("inputs 'past_key_values.{i}.key' / '.value'");
  for (let i = 0; i < layers; i++) {
    if (!ins.has(`past_key_values.${i}.value`)) missing.push(`input 'past_key_values.${i}.value'`);
    if (!outs.has(`present.${i}.key`)) missing.push(`output 'present.${i}.key'`);
    if (!outs.has(`present.${i}.value`)) missing.push(`output 'present.${i}.value'`);
  }
  if (missing.length > 0) {
    throw typeError(
      `${label} does not have lengthwise's model interface: missing ${missing.join(', ')} ` +
        `(has inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]; ` +
        'expected input_ids, position_ids, attention_bias, past_key_values.{i}.key|value → logits, present.{i}.key|value)',
    );
  }
  if (side.layers !== undefined && side.layers !== layers) {
    throw rangeError(`${label}: sidecar says layers = ${side.layers} but the graph has ${layers} past_key_values inputs`);
  }
  const kvMeta = metaOf(session.inputMetadata, 'past_key_values.0.key');
  const logitsMeta = metaOf(session.outputMetadata, 'logits');
  const pick = (field: 'kvHeads' | 'headDim' | 'vocab', graph: number | undefined): number => {
    const s = side[field];
    if (s !== undefined && graph !== undefined && s !== graph) {
      throw rangeError(`${label}: sidecar says ${field} = ${s} but the graph has ${graph}`);
    }
    const v = s ?? graph;
    if (!(Number.isInteger(v) && (v as number) > 0)) {
      throw rangeError(`${label}: ${field} is neither in the sidecar nor a static dimension of the graph`);
    }
    return v as number;
  };
  const kvHeads = pick('kvHeads', staticDim(kvMeta, 1));
  const headDim = pick('headDim', staticDim(kvMeta, 3));
  const vocab = pick('vocab', staticDim(logitsMeta, 2));
  for (const [n, m] of [['input_ids', 'int64'], ['position_ids', 'int64'], ['attention_bias', 'float32']] as const) {
    const t = metaOf(session.inputMetadata, n)?.type;
    if (t !== undefined && t !== m) throw typeError(`${label}: input '${n}' must be ${m}, the graph has ${t}`);
  }
  return {
    name: side.name ?? label,
    layers,
    kvHeads,
    headDim,
    vocab,
    window: side.window,
    bosId: side.bosId,
    eosId: side.eosId,
    padId: side.padId,
    maskValue: side.maskValue,
    tokenizer: side.tokenizer,
    tokenizerVocab: side.tokenizerVocab,
  };
}

/** A model adapter over an ONNX Runtime session (CPU by default). */
export class OnnxModel implements ModelAdapter<OnnxCache> {
  /** Vocabulary size (from `info.vocab`). */
  readonly vocab: number;
  /** Positions the model supports (from `info.window`). */
  readonly window?: number;
  /** Attention-bias value that masks a column (`info.maskValue`, default −1e9). */
  readonly maskValue: number;
  /** End-of-sequence token id (from `info.eosId`). */
  readonly eosId?: number;
  /** Padding token id (from `info.padId`). */
  readonly padId?: number;

  /**
   * Wraps an ONNX Runtime session of a decoder exported with `input_ids`, `position_ids`,
   * `attention_bias` and `past_key_values.{i}.key/value` inputs, described by `info`.
   */
  constructor(
    readonly session: OrtSession,
    readonly info: ModelInfo,
  ) {
    this.vocab = info.vocab;
    this.window = info.window;
    this.maskValue = info.maskValue ?? -1e9;
    this.eosId = info.eosId;
    this.padId = info.padId;
  }

  /** One decoder step over `batch × S` new tokens (see {@link ModelAdapter.forward}): float32 or float16 logits rows. */
  async forward(tokens: Int32Array, positions: Int32Array, bias: AttentionBias, cache: OnnxCache | null): Promise<ForwardResult<OnnxCache>> {
    const ort = loadOrt();
    const { batch: B, rows: S, columns: C } = bias;
    const P = cache?.columns ?? 0;
    if (C !== P + S || tokens.length !== B * S || positions.length !== B * S || bias.data.length !== B * S * C) {
      throw rangeError(`${this.info.name}.forward: inconsistent shapes (batch ${B}, rows ${S}, columns ${C}, cache ${P})`);
    }
    if (cache && cache.batch !== B) throw rangeError(`${this.info.name}.forward: cache batch ${cache.batch} != ${B}`);
    const { kvHeads: H, headDim: D, layers } = this.info;
    const feeds: Record<string, OrtTensor> = {
      input_ids: new ort.Tensor('int64', int64(tokens), [B, S]),
      position_ids: new ort.Tensor('int64', int64(positions), [B, S]),
      attention_bias: new ort.Tensor('float32', bias.data, [B, 1, S, C]),
    };
    const empty = new Float32Array(0);
    for (let i = 0; i < layers; i++) {
      feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', cache?.keys[i] ?? empty, [B, H, P, D]);
      feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', cache?.values[i] ?? empty, [B, H, P, D]);
    }
    const out = await this.session.run(feeds);
    const l = out.logits!;
    let logits: Logits;
    const view = l.data as ArrayBufferView & { length: number };
    if (l.type === 'float32') logits = { data: new Float32Array(view.buffer as ArrayBuffer, view.byteOffset, view.length), rows: B * S, vocab: this.vocab };
    else if (l.type === 'float16') logits = { data: new Uint16Array(view.buffer as ArrayBuffer, view.byteOffset, view.length), dtype: 'float16', rows: B * S, vocab: this.vocab };
    else throw typeError(`${this.info.name}: output 'logits' must be float32 or float16, got ${l.type}`);
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let i = 0; i < layers; i++) {
      keys.push(f32(out[`present.${i}.key`]!.data as Float32Array));
      values.push(f32(out[`present.${i}.value`]!.data as Float32Array));
    }
    return { logits, cache: { keys, values, batch: B, columns: C } };
  }

  /** Selects `length` cache columns per item (see {@link ModelAdapter.keep}); a fresh cache. */
  keep(cache: OnnxCache, indices: Int32Array, length: number): OnnxCache {
    const { kvHeads: H, headDim: D } = this.info;
    const B = cache.batch;
    const P = cache.columns;
    const gather = (src: Float32Array) => {
      const dst = new Float32Array(B * H * length * D);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const sBase = (b * H + h) * P * D;
          const dBase = (b * H + h) * length * D;
          for (let k = 0; k < length; k++) {
            const j = indices[b * length + k]!;
            dst.set(src.subarray(sBase + j * D, sBase + j * D + D), dBase + k * D);
          }
        }
      }
      return dst;
    };
    return { keys: cache.keys.map(gather), values: cache.values.map(gather), batch: B, columns: length };
  }

  /** Frees the session. */
  async release(): Promise<void> {
    await this.session.release?.();
  }
}

/**
 * Loads an ONNX model with lengthwise's model interface and checks it.
 *
 * @example
 * ```ts
 * import { loadModel } from 'lengthwise/onnx';
 * const target = await loadModel('models/target.onnx', { threads: 2 });
 * ```
 * @throws Error when onnxruntime-node is not installed; TypeError naming the missing inputs/outputs;
 *   RangeError when the sidecar disagrees with the graph.
 */
export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<OnnxModel> {
  if (typeof path !== 'string' || path.length === 0) throw typeError('path must be the path of a .onnx file');
  if (!existsSync(path)) throw rangeError(`model file ${show(path)} does not exist`);
  const side = readSidecar(path, opts.sidecar);
  const ort = loadOrt();
  const so: Record<string, unknown> = { executionProviders: opts.executionProviders ?? ['cpu'] };
  if (opts.threads !== undefined) {
    if (!(Number.isInteger(opts.threads) && opts.threads >= 1)) throw rangeError(`threads must be an integer >= 1, got ${show(opts.threads)}`);
    so.intraOpNumThreads = opts.threads;
    so.interOpNumThreads = 1;
  }
  const session = await ort.InferenceSession.create(path, so);
  return new OnnxModel(session, describeSession(session, path, side));
}

/**
 * Checks that `draft` can draft for `target`: same vocabulary, same tokenizer.
 *
 * @throws RangeError naming both models and the mismatching field.
 */
export function checkPair(target: OnnxModel, draft: OnnxModel): void {
  const t = target.info;
  const d = draft.info;
  if (t.vocab !== d.vocab) {
    throw rangeError(`vocab mismatch: target ${t.name} has vocab ${t.vocab}, draft ${d.name} has vocab ${d.vocab} (they must share one tokenizer)`);
  }
  if (t.tokenizer !== undefined && d.tokenizer !== undefined && t.tokenizer !== d.tokenizer) {
    throw rangeError(`tokenizer mismatch: target ${t.name} uses ${show(t.tokenizer)}, draft ${d.name} uses ${show(d.tokenizer)}`);
  }
}
