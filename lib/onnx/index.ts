/**
 * `lengthwise/onnx`: the built-in ONNX Runtime model adapter (optional peer `onnxruntime-node`, loaded only
 * here) and the Llama 2 tokenizer of the bundled model pair (optional peer `llama-tokenizer-js`).
 *
 * @packageDocumentation
 */
export { type LoadModelOptions, type ModelInfo, type OnnxCache, OnnxModel, checkPair, loadModel } from './model';
export { type Tokenizer, checkTokenizer, loadLlamaTokenizer } from './tokenizer';
export type { OrtSession, OrtTensor, OrtValueMetadata } from './runtime';
export { type ContextChoice, type LongContextAnswer, type LongContextOptions, answerLongContext } from './xl3m';
