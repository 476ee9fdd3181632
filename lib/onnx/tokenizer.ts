/**
 * The tokenizer of the model pair: npm `llama-tokenizer-js` (Llama 2 SentencePiece, 32000 ids), an optional
 * peer loaded on first use, and the check that a model was trained with the tokenizer given to it.
 *
 * @packageDocumentation
 */
import { show } from '../runtime/show';
import type { OnnxModel } from './model';
import { lwError, rangeError, typeError } from '../runtime/validate';

/** A text ⇄ token-id codec. */
export interface Tokenizer {
  /** Name recorded in model sidecars (`"llama-tokenizer-js"`). */
  readonly name: string;
  /** Number of ids the tokenizer can produce. */
  readonly vocabSize: number;
  /** Token ids of `text`, with BOS and the SentencePiece leading space. */
  encode(text: string): number[];
  /** Text of `ids` (BOS / EOS / unk dropped), leading spaces kept so streamed pieces concatenate. */
  decode(ids: readonly number[]): string;
}

interface LlamaTokenizerModule {
  default: {
    vocabById: string[];
    encode(text: string, addBos?: boolean, addSpace?: boolean): number[];
    decode(ids: number[], addBos?: boolean, addSpace?: boolean): string;
  };
}

/**
 * Loads `llama-tokenizer-js` (an ES module: needs Node ≥ 20.19 for `require` of ESM).
 *
 * @throws Error saying how to install it when it is missing.
 */
export function loadLlamaTokenizer(): Tokenizer {
  let mod: LlamaTokenizerModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('llama-tokenizer-js') as LlamaTokenizerModule;
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND') {
      throw lwError('ERR_LENGTHWISE', "the model's tokenizer needs the optional peer dependency 'llama-tokenizer-js': npm install llama-tokenizer-js");
    }
    throw err;
  }
  const t = mod.default;
  return {
    name: 'llama-tokenizer-js',
    vocabSize: t.vocabById.length,
    encode: (text) => t.encode(text),
    decode: (ids) => t.decode(ids.filter((id) => id > 2), false, false),
  };
}

/**
 * Checks that `tokenizer` is the one `model` was trained with (its sidecar's `tokenizer` and `tokenizerVocab`)
 * and that its ids fit the model's vocabulary.
 *
 * @throws RangeError naming the model, what its sidecar says and what the tokenizer is.
 */
export function checkTokenizer(model: OnnxModel, tokenizer: Tokenizer): void {
  const info = model.info;
  if (tokenizer === null || typeof tokenizer !== 'object' || typeof tokenizer.encode !== 'function') {
    throw typeError('tokenizer must be { name, vocabSize, encode(text), decode(ids) }');
  }
  if (info.tokenizer !== undefined && info.tokenizer !== tokenizer.name) {
    throw rangeError(
      `tokenizer mismatch: ${info.name} was trained with tokenizer ${show(info.tokenizer)}, got ${show(tokenizer.name)}`,
    );
  }
  const expected = info.tokenizerVocab ?? info.vocab;
  if (tokenizer.vocabSize !== expected) {
    throw rangeError(
      `tokenizer mismatch: ${info.name} expects a tokenizer of ${expected} ids, ${show(tokenizer.name)} has ${tokenizer.vocabSize}`,
    );
  }
  if (tokenizer.vocabSize > info.vocab) {
    throw rangeError(`tokenizer ${show(tokenizer.name)} has ${tokenizer.vocabSize} ids but ${info.name}'s vocabulary is ${info.vocab}`);
  }
}
