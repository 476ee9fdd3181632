// Token ids for training, made in Node so Node and Python see the same Llama 2 ids (llama-tokenizer-js).
//   node tokenize.mjs CORPUS_DIR OUT_DIR [--passkey-train 12000 --passkey-val 400 --seed 1]
// CORPUS_DIR holds build_corpus.sh's kjv.txt and web.txt (one chapter per line).
// Writes (uint16 little endian, vocab 32000):
//   text_{train,val}.u16     BOS chapter EOS ..., KJV then WEB (every 20th chapter of each is validation)
//   passkey_{train,val}.u16  passkey documents back to back; meta.json has each one's offset and length and the
//                            start of each 5-digit key group (the last group is the answer). Keys are digits only,
//                            and Llama tokenizes every digit alone, so train.py can redraw the key per epoch.
//   meta.json                the above plus the digit ids, the copy-task separator ids and the settings.
import fs from 'node:fs';
import path from 'node:path';
import { load } from './deps.mjs';

const tok = load('llama-tokenizer-js').default ?? load('llama-tokenizer-js');
const [src, out] = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const WINDOW = 512, BOS = 1, EOS = 2;
const nTrain = arg('passkey-train', 12000), nVal = arg('passkey-val', 400), seed = arg('seed', 1);

let state = seed >>> 0;
const rand = () => ((state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
const randInt = (n) => Math.floor(rand() * n);

export const PREFIX = 'There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.';
export const FILLER = 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.';
export const keySentence = (k) => `The pass key is ${k}. Remember it. ${k} is the pass key.`;
export const QUESTION = 'What is the pass key? The pass key is';

const books = ['kjv', 'web'].map((b) => fs.readFileSync(path.join(src, `${b}.txt`), 'utf8').split('\n').filter((l) => l.length > 0));
const chapters = books.flat();
const split = { train: books.flatMap((b) => b.filter((_, i) => i % 20 !== 19)), val: books.flatMap((b) => b.filter((_, i) => i % 20 === 19)) };
const verses = (chs) => chs.flatMap((c) => c.split(/(?<=[.?!:;]) (?=[A-Z])/));

function writeU16(file, ids) {
  const a = Uint16Array.from(ids);
  fs.writeFileSync(path.join(out, file), Buffer.from(a.buffer));
  return a.length;
}

const digitIds = [...'0123456789'].map((d) => tok.encode(d, false, false)[0]);
const isDigit = new Set(digitIds);

// One passkey document of at most maxLen tokens; the filler is the classic sentence or consecutive verses.
function passkeyDoc(vs, maxLen) {
  const key = String(10000 + randInt(90000));
  const kjvFiller = rand() < 0.35;
  const units = [];
  let start = randInt(vs.length);
  for (let i = 0; i < 120; i++) units.push(kjvFiller ? vs[(start + i) % vs.length] : FILLER);
  const withPrefix = rand() < 0.8;
  const depth = rand();
  const build = (n) => {
    const fill = units.slice(0, n);
    fill.splice(Math.round(depth * n), 0, keySentence(key));
    return [...(withPrefix ? [PREFIX] : []), ...fill, QUESTION].join(' ') + ` ${key}.`;
  };
  // grow filler to the target length, then trim if the whole-text tokenization overshoots
  let n = 0, ids = tok.encode(build(0));
  const per = Math.max(1, tok.encode(units[0], false, false).length);
  n = Math.max(0, Math.floor((maxLen - 1 - ids.length) / (per + 0.5)));
  ids = tok.encode(build(n));
  while (ids.length + 1 > maxLen && n > 0) ids = tok.encode(build(--n));
  ids.push(EOS);
  const groups = [];
  for (let i = 0; i < ids.length; i++) {
    if (isDigit.has(ids[i]) && !isDigit.has(ids[i - 1])) groups.push(i);
  }
  if (groups.length !== 3 || groups.some((g) => !isDigit.has(ids[g + 4]) || isDigit.has(ids[g + 5]))) {
    throw new Error(`unexpected key tokenization in a document of ${ids.length} tokens`);
  }
  return { ids, groups, kjvFiller, depth, withPrefix };
}

function passkeySet(name, n, vs, lengthOf) {
  const all = [], docs = [];
  for (let i = 0; i < n; i++) {
    const d = passkeyDoc(vs, lengthOf());
    docs.push({ offset: all.length, length: d.ids.length, groups: d.groups, kjvFiller: d.kjvFiller,
      depth: Math.round(d.depth * 1000) / 1000 });
    for (const t of d.ids) all.push(t);
  }
  writeU16(`passkey_${name}.u16`, all);
  return docs;
}

fs.mkdirSync(out, { recursive: true });
const meta = { tokenizer: 'llama-tokenizer-js', window: WINDOW, bos: BOS, eos: EOS, seed, digitIds,
  sources: ['kjv.txt', 'web.txt'], chapters: books.map((b) => b.length), formats: { PREFIX, FILLER, key: keySentence('KEY'), QUESTION } };
for (const name of ['train', 'val']) {
  const ids = [];
  for (const c of split[name]) { for (const t of tok.encode(c)) ids.push(t); ids.push(EOS); }
  meta[`text_${name}_tokens`] = writeU16(`text_${name}.u16`, ids);
}
meta.copy = { repeat: tok.encode('Repeat the following text.'), then: tok.encode(' Again:', false, false) };
// training lengths: half spread over the window, half near its end (far keys); validation: 1x window
meta.passkey_train = passkeySet('train', nTrain, verses(split.train),
  () => (rand() < 0.5 ? 48 + randInt(WINDOW - 48) : WINDOW - randInt(64)));
meta.passkey_val = passkeySet('val', nVal, verses(split.val), () => WINDOW - randInt(16));
fs.writeFileSync(path.join(out, 'meta.json'), JSON.stringify(meta));
const tot = (d) => d.reduce((s, x) => s + x.length, 0);
console.log(`text train ${meta.text_train_tokens} val ${meta.text_val_tokens} tokens; passkey train ${nTrain} docs ` +
  `${tot(meta.passkey_train)} tokens, val ${nVal} docs ${tot(meta.passkey_val)} tokens`);
