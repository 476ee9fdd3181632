/**
 * The logitStats part of `lengthwise demo`: a word n-gram model (bundled text) predicts the next word along a
 * passage; logitStats reports, per position, how certain the model was and how surprised it was by the truth.
 *
 * @packageDocumentation
 */
import { logitStats } from '../logitStats';
import { haystackSentences, haystackWords } from '../demo/haystack';
import { NgramLM, WordVocab } from '../demo/ngram';

/** Runs the demo and returns its report. */
export async function demoLogitStats(): Promise<string> {
  const sentences = haystackSentences(4000, 7);
  const vocab = new WordVocab(haystackWords());
  const train = vocab.encode(sentences.slice(0, -3).join(' '));
  const passage = vocab.encode(sentences.slice(-3).join(' '));
  const lm = new NgramLM({ vocab: vocab.size, order: 3 });
  lm.train(train);
  const rows = passage.length - 1;
  const logits = lm.logits(passage, Array.from({ length: rows }, (_, i) => i));
  const targets = passage.slice(1);
  const t0 = process.hrtime.bigint();
  const s = await logitStats({ data: logits, rows, vocab: vocab.size }, { targets });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const lines = [`logitStats: ${rows} positions × vocab ${vocab.size} (word trigram model, bundled text) in ${ms.toFixed(2)} ms`];
  lines.push('  next word        entropy  nll     rank  model guessed');
  const show = Math.min(rows, 12);
  for (let i = 0; i < show; i++) {
    lines.push(
      `  ${vocab.words[targets[i]!]!.padEnd(16)} ${s.entropy[i]!.toFixed(3).padStart(7)} ${s.nll![i]!.toFixed(3).padStart(7)} ` +
        `${String(s.targetRank![i]).padStart(5)}  ${vocab.words[s.argmax[i]!]!}`,
    );
  }
  let meanNll = 0;
  for (let i = 0; i < rows; i++) meanNll += s.nll![i]!;
  lines.push(`  mean NLL ${(meanNll / rows).toFixed(3)} nats/word (perplexity ${Math.exp(meanNll / rows).toFixed(1)})`);
  return lines.join('\n');
}
