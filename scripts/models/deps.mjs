// Loads the two npm packages the model scripts need (llama-tokenizer-js, onnxruntime-node). They are not
// dependencies of lengthwise itself: install them anywhere (see models/README.md) and point
// MODELS_NODE_MODULES at that node_modules folder, or install them into the checkout.
import { createRequire } from 'node:module';
import path from 'node:path';

const base = process.env.MODELS_NODE_MODULES
  ? path.join(path.resolve(process.env.MODELS_NODE_MODULES), '..', 'noop.js')
  : import.meta.url;
const require = createRequire(base);

export const load = (name) => require(name);
