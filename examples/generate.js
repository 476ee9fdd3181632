// Speculative decoding with the bundled ONNX model pair, from Node.
//   node examples/generate.js [models-dir] [prompt]
// Needs the optional peers: npm install onnxruntime-node llama-tokenizer-js --onnxruntime-node-install=skip
'use strict';
const path = require('node:path');
const { speculative } = require('lengthwise');
const { loadModel, loadLlamaTokenizer, checkPair, checkTokenizer } = require('lengthwise/onnx');

async function main() {
  const dir = process.argv[2] ?? path.join(__dirname, '..', 'models');
  const text = process.argv[3] ?? 'In the beginning God created the heaven and the earth.';
  const tokenizer = loadLlamaTokenizer();
  const target = await loadModel(path.join(dir, 'target.onnx'), { threads: 1 });
  const draft = await loadModel(path.join(dir, 'draft.onnx'), { threads: 1 });
  checkPair(target, draft); // same vocabulary and tokenizer
  checkTokenizer(target, tokenizer);

  const decoder = speculative.createDecoder({ target, draft, tree: { kind: 'static' } });
  const prompt = tokenizer.encode(text);
  const stats = {};
  let out = '';
  for await (const ev of decoder.stream([prompt], { maxTokens: 24, temperature: 0 }, stats)) {
    out += tokenizer.decode(ev.tokens);
    process.stdout.write(tokenizer.decode(ev.tokens));
  }
  process.stdout.write('\n');
  console.error(`${stats.generatedTokens} tokens in ${stats.targetForwards} target forwards ` +
    `(${stats.acceptedPerForward.toFixed(2)} draft tokens accepted per forward)`);
  return out;
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
