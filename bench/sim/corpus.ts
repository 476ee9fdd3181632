// A small original corpus for the simulation: sentences from a seeded toy grammar (written for this project,
// no external text), lower-case characters, spaces and punctuation.

import { mulberry32 } from '../../lib/runtime/prng';


const W = {
  det: ['the', 'a', 'every', 'one', 'that'],
  adj: ['old', 'small', 'quiet', 'bright', 'tired', 'clever', 'green', 'heavy', 'patient', 'curious', 'cold', 'gentle'],
  noun: ['miller', 'dog', 'river', 'lamp', 'garden', 'teacher', 'boat', 'window', 'letter', 'mountain', 'child',
    'baker', 'bridge', 'storm', 'field', 'clock', 'road', 'sailor', 'kettle', 'forest'],
  verbT: ['watches', 'carries', 'finds', 'follows', 'paints', 'remembers', 'opens', 'mends', 'answers', 'crosses'],
  verbI: ['sleeps', 'waits', 'sings', 'wanders', 'listens', 'returns', 'rests', 'laughs'],
  prep: ['near', 'behind', 'across', 'under', 'beside', 'toward', 'past'],
  adv: ['slowly', 'again', 'softly', 'at dawn', 'every morning', 'before the rain', 'without a word'],
  conj: ['and', 'but', 'while', 'because'],
};

function pick<T>(r: () => number, a: readonly T[]): T {
  // Zipf-like: earlier entries are more frequent, so the n-gram statistics are skewed like real text.
  const i = Math.min(a.length - 1, Math.floor(a.length * r() ** 1.7));
  return a[i];
}

function np(r: () => number): string {
  const parts = [pick(r, W.det)];
  if (r() < 0.55) parts.push(pick(r, W.adj));
  parts.push(pick(r, W.noun));
  if (r() < 0.15) parts.push(pick(r, W.prep), pick(r, W.det), pick(r, W.noun));
  return parts.join(' ');
}

function clause(r: () => number): string {
  const s = [np(r)];
  if (r() < 0.6) s.push(pick(r, W.verbT), np(r));
  else s.push(pick(r, W.verbI));
  if (r() < 0.35) s.push(pick(r, W.adv));
  return s.join(' ');
}

/** About `chars` characters of text from seed `seed`. */
export function corpus(chars: number, seed = 2024): string {
  const r = mulberry32(seed);
  const out: string[] = [];
  let n = 0;
  while (n < chars) {
    let s = clause(r);
    while (r() < 0.4) s += (r() < 0.3 ? ', ' : ' ') + pick(r, W.conj) + ' ' + clause(r);
    s += r() < 0.9 ? '. ' : '? ';
    out.push(s);
    n += s.length;
  }
  return out.join('');
}
