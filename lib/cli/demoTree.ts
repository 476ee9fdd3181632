/**
 * The tree-verification part of `lengthwise demo`: a small draft model (word bigram) proposes a tree of
 * continuations, a larger target model (word 4-gram with a context cache) scores every node, and verifyTree
 * accepts what the target agrees with — greedy and sampled — next to the exact expected acceptance.
 *
 * @packageDocumentation
 */
import { verifyTree } from '../tree/verify';
import { expectedAcceptance } from '../tree/utils';
import type { TreeBatch } from '../tree/types';
import { haystackSentences, haystackWords } from '../demo/haystack';
import { NgramLM, WordVocab } from '../demo/ngram';

/** Top-`k` token ids of a logits row. */
function topK(row: Float32Array, k: number): number[] {
  return Array.from(row.keys())
    .sort((a, b) => row[b]! - row[a]! || a - b)
    .slice(0, k);
}

/** Runs the demo and returns its report. */
export async function demoTree(): Promise<string> {
  const vocab = new WordVocab(haystackWords());
  const V = vocab.size;
  const corpus = vocab.encode(haystackSentences(6000, 11).join(' '));
  const target = new NgramLM({ vocab: V, order: 4 }).train(corpus);
  const draft = new NgramLM({ vocab: V, order: 2, cacheWeight: 0 }).train(corpus.subarray(0, corpus.length >> 2));
  const prompts = haystackSentences(400, 99).slice(0, 8).map((s) => vocab.encode(s));

  // One tree per prompt: the draft's top 2 next words, each followed by the draft's top 2, then a greedy chain.
  const tokens: number[] = [], parents: number[] = [], offsets = [0];
  const rows: Float32Array[] = [];
  for (const prompt of prompts) {
    const nodes: { parent: number; seq: Int32Array }[] = [{ parent: -1, seq: prompt }];
    const expand = (i: number, width: number) => {
      const seq = nodes[i]!.seq;
      const row = draft.logits(seq, [seq.length - 1]);
      for (const t of topK(row, width)) {
        const next = new Int32Array(seq.length + 1);
        next.set(seq);
        next[seq.length] = t;
        nodes.push({ parent: i, seq: next });
      }
    };
    expand(0, 2);
    expand(1, 2);
    expand(2, 2);
    for (let i = 3; i < 7; i++) expand(i, 1);
    for (const n of nodes) {
      tokens.push(n.seq[n.seq.length - 1]!);
      parents.push(n.parent);
      rows.push(target.logits(n.seq, [n.seq.length - 1]));
    }
    offsets.push(offsets[offsets.length - 1]! + nodes.length);
  }
  const trees: TreeBatch = { tokens: Int32Array.from(tokens), parents: Int32Array.from(parents), offsets: Int32Array.from(offsets) };
  const data = new Float32Array(rows.length * V);
  rows.forEach((r, i) => data.set(r, i * V));
  const logits = { data, rows: rows.length, vocab: V };

  const greedy = await verifyTree(trees, logits, { mode: 'greedy', seed: 1 });
  const sampled = await verifyTree(trees, logits, { mode: 'sample', drafts: 'deterministic', temperature: 0.8, seed: 7 });
  const expected = await expectedAcceptance(trees, logits, { temperature: 0.8 });
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0) / a.length;
  const lines = [
    `verifyTree: ${prompts.length} trees × ${offsets[1]} nodes (draft: word bigram; target: word 4-gram + cache), vocab ${V}`,
    '  prompt (last words)                  greedy emits                      sampled (T 0.8) emits',
  ];
  for (let b = 0; b < prompts.length; b++) {
    const p = prompts[b]!;
    const g = greedy.tokens.subarray(greedy.tokenOffsets[b]!, greedy.tokenOffsets[b + 1]!);
    const s = sampled.tokens.subarray(sampled.tokenOffsets[b]!, sampled.tokenOffsets[b + 1]!);
    lines.push(
      `  …${vocab.decode(p.subarray(Math.max(0, p.length - 4))).padEnd(34)} ${vocab.decode(g).padEnd(33)} ${vocab.decode(s)}`,
    );
  }
  lines.push(
    `  mean accepted draft tokens: greedy ${mean(greedy.acceptedLength).toFixed(2)}, sampled ${mean(sampled.acceptedLength).toFixed(2)} ` +
      `(exact expectation at T 0.8: ${mean(expected).toFixed(2)})`,
  );
  return lines.join('\n');
}
