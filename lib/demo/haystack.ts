/**
 * Deterministic generated text for examples, tests and the demo: plain template sentences (the "haystack")
 * and a needle fact with the question that queries it.
 */
import { mulberry32 } from '../runtime/prng';

const NOUNS = ['farmer', 'river', 'teacher', 'market', 'garden', 'village', 'horse', 'bridge', 'baker', 'forest',
  'castle', 'window', 'letter', 'road', 'child', 'boat', 'mountain', 'lamp', 'door', 'field', 'king', 'bird'];
const ADJS = ['old', 'quiet', 'green', 'small', 'busy', 'bright', 'cold', 'blue', 'tall', 'happy', 'dark', 'warm'];
const VERBS = ['sees', 'finds', 'leaves', 'paints', 'follows', 'builds', 'carries', 'watches', 'visits', 'opens'];
const PREPS = ['near', 'behind', 'under', 'beside', 'across', 'past'];
const TIMES = ['in the morning', 'at noon', 'every day', 'after the rain', 'before dinner', 'at night'];

/** The needle sentence and the question that asks for it. */
export const NEEDLE = 'the secret code of the blue castle is seven four nine .';
export const QUESTION = 'question : what is the secret code of the blue castle ?';

/** Every word the generator, the needle and the question use. */
export function haystackWords(): string[] {
  const extra = ['the', 'a', '.', 'and', 'then', 'in', 'at', 'every', 'after', 'before', 'morning', 'noon', 'day',
    'rain', 'dinner', 'night'];
  const all = [...NOUNS, ...ADJS, ...VERBS, ...PREPS, ...extra, ...NEEDLE.split(' '), ...QUESTION.split(' ')];
  return [...new Set(all)];
}


/** Sentences of generated text with about `words` words, reproducible from `seed`. */
export function haystackSentences(words: number, seed: number): string[] {
  const r = mulberry32(seed);
  const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
  const out: string[] = [];
  let n = 0;
  while (n < words) {
    const np = () => (r() < 0.5 ? `the ${pick(ADJS)} ${pick(NOUNS)}` : `a ${pick(NOUNS)}`);
    let s = `${np()} ${pick(VERBS)} ${np()}`;
    if (r() < 0.5) s += ` ${pick(PREPS)} ${np()}`;
    if (r() < 0.3) s += ` ${pick(TIMES)}`;
    if (r() < 0.2) s += ` and then ${pick(VERBS)} ${np()}`;
    s += ' .';
    out.push(s);
    n += s.split(' ').length;
  }
  return out;
}
