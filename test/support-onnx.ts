/**
 * A tiny real sentence-embedding model, built by the test itself: no download, no python.
 *
 * The ONNX graph is one Gather (a static token-embedding table looked up by `input_ids`) whose output is the
 * `last_hidden_state` the `@huggingface/transformers` feature-extraction pipeline mean-pools. It is encoded by hand
 * below (a protobuf writer of the few ONNX messages it needs) and written with a BERT WordPiece tokenizer.json,
 * tokenizer_config.json and config.json to a temporary folder, in the layout the library loads from
 * (`<localModelPath>/<model>/onnx/model.onnx`).
 *
 * The table is made so the model knows a few synonyms: words of one concept share one row, so "How do I reset my
 * password?" and "How can I change my passcode?" embed to the same vector, which the lexical embedder cannot see.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// ---- a minimal protobuf writer -------------------------------------------------------------------------------

type Bytes = Uint8Array;

function varint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint: ${value}`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function concat(parts: readonly Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A varint field (wire type 0): int32, int64, enums. */
const int = (field: number, value: number): Bytes => Uint8Array.from([...varint(field * 8), ...varint(value)]);
/** A length-delimited field (wire type 2): bytes, strings, embedded messages. */
const bytes = (field: number, value: Bytes): Bytes => concat([Uint8Array.from([...varint(field * 8 + 2), ...varint(value.length)]), value]);
const str = (field: number, value: string): Bytes => bytes(field, new TextEncoder().encode(value));
const message = (...fields: Bytes[]): Bytes => concat(fields);

// ---- the ONNX messages (onnx.proto3 field numbers) ------------------------------------------------------------

const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;

/** TypeProto.Tensor with a shape of named (dynamic) and fixed dimensions, inside a ValueInfoProto. */
function valueInfo(name: string, elemType: number, dims: ReadonlyArray<string | number>): Bytes {
  const shape = message(...dims.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d))));
  const tensorType = message(int(1, elemType), bytes(2, shape));
  return message(str(1, name), bytes(2, bytes(1, tensorType)));
}

/** A float TensorProto of shape [rows, columns], little-endian raw data. */
function floatTensor(name: string, rows: number, columns: number, values: readonly number[]): Bytes {
  const raw = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => raw.setFloat32(i * 4, v, true));
  return message(int(1, rows), int(1, columns), int(2, FLOAT), str(8, name), bytes(9, new Uint8Array(raw.buffer)));
}

/** ModelProto: opset 13, one graph `Gather(embeddings, input_ids, axis=0) -> last_hidden_state`. */
export function staticEmbeddingOnnx(table: readonly number[][]): Bytes {
  const rows = table.length;
  const dims = table[0]!.length;
  const gather = message(
    str(1, 'embeddings'),
    str(1, 'input_ids'),
    str(2, 'last_hidden_state'),
    str(3, 'lookup'),
    str(4, 'Gather'),
    bytes(5, message(str(1, 'axis'), int(3, 0), int(20, ATTRIBUTE_INT))),
  );
  const graph = message(
    bytes(1, gather),
    str(2, 'static_embedding'),
    bytes(5, floatTensor('embeddings', rows, dims, table.flat())),
    bytes(11, valueInfo('input_ids', INT64, ['batch_size', 'sequence_length'])),
    bytes(11, valueInfo('attention_mask', INT64, ['batch_size', 'sequence_length'])),
    bytes(12, valueInfo('last_hidden_state', FLOAT, ['batch_size', 'sequence_length', dims])),
  );
  return message(int(1, 8), str(2, 'rxjs-batch-dedup tests'), bytes(7, graph), bytes(8, message(str(1, ''), int(2, 13))));
}

// ---- the vocabulary, the table and the files ------------------------------------------------------------------

/** Words by concept: the words of one concept embed alike. Concept 0 is the function words and punctuation. */
export const CONCEPTS: readonly (readonly string[])[] = [
  ['how', 'do', 'can', 'i', 'my', 'the', 'a', 'to', 'what', 'is', '?', '.'],
  ['reset', 'change'],
  ['password', 'passcode'],
  ['delete', 'remove', 'close'],
  ['account', 'profile'],
  ['weather', 'forecast'],
  ['today', 'now'],
  ['refund', 'return'],
];
const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];
const DIMENSIONS = CONCEPTS.length + 1;

/** One row per token: special tokens share the last axis, each concept its own (function words a small weight). */
function vocabularyAndTable(): { vocab: Record<string, number>; table: number[][] } {
  const vocab: Record<string, number> = {};
  const table: number[][] = [];
  const row = (axis: number, weight: number) => Array.from({ length: DIMENSIONS }, (_, d) => (d === axis ? weight : 0));
  for (const token of SPECIAL) {
    vocab[token] = table.length;
    table.push(row(DIMENSIONS - 1, 0.1));
  }
  CONCEPTS.forEach((words, concept) => {
    for (const word of words) {
      vocab[word] = table.length;
      table.push(row(concept, concept === 0 ? 0.2 : 1));
    }
  });
  return { vocab, table };
}

function tokenizerJson(vocab: Record<string, number>): unknown {
  const special = (token: string) => ({ id: vocab[token], content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
  const sep = { SpecialToken: { id: '[SEP]', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep],
      pair: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export interface TinyModel {
  /** Pass as `localModelPath`. */
  readonly root: string;
  /** Pass as `model`: the folder under `root`. */
  readonly model: string;
  /** Removes the folder. */
  remove(): void;
}

/** Writes the model folder: config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx. */
export function writeTinyModel(): TinyModel {
  const root = mkdtempSync(join(tmpdir(), 'rxjs-batch-dedup-onnx-'));
  const model = 'local/static-embedding';
  const folder = join(root, model);
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  const { vocab, table } = vocabularyAndTable();
  writeFileSync(join(folder, 'onnx', 'model.onnx'), staticEmbeddingOnnx(table));
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)));
  writeFileSync(
    join(folder, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 128,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
    }),
  );
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: DIMENSIONS, vocab_size: table.length }));
  return { root, model, remove: () => rmSync(root, { recursive: true, force: true }) };
}
