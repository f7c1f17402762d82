import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One labelled sentence pair: `duplicate` says whether humans judged them to mean the same. */
export interface LabelledPair {
  readonly a: string;
  readonly b: string;
  readonly duplicate: boolean;
}

export interface Dataset {
  readonly name: string;
  readonly pairs: readonly LabelledPair[];
}

/** The project root, found from this file so the script works from any working directory. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `../shared/data` from the project root, where the labelled pairs live (see its README.md). */
export const dataDir = resolve(projectRoot, '..', 'shared', 'data');

const FILES = { qqp: 'qqp-pairs.csv', paws: 'paws-wiki-dev.tsv' } as const;

/** Loads both datasets, or throws an error that says where they were expected. */
export function loadDatasets(): Dataset[] {
  const missing = Object.values(FILES).filter((file) => !existsSync(join(dataDir, file)));
  if (missing.length > 0) {
    throw new Error(
      `eval:dedup needs the labelled pairs in ${dataDir} (missing: ${missing.join(', ')}). ` +
        'They live in the shared folder next to the project (../shared/data, see its README.md).',
    );
  }
  return [
    { name: 'QQP', pairs: parseQqp(readFileSync(join(dataDir, FILES.qqp), 'utf8')) },
    { name: 'PAWS', pairs: parsePaws(readFileSync(join(dataDir, FILES.paws), 'utf8')) },
  ];
}

/** `question1,question2,is_duplicate` with RFC 4180 quoting. */
export function parseQqp(csv: string): LabelledPair[] {
  const rows = parseCsv(csv);
  const header = rows.shift();
  if (header?.join(',') !== 'question1,question2,is_duplicate') throw new Error(`unexpected QQP header: ${header?.join(',')}`);
  return rows.filter((row) => row.length === 3).map(([a, b, label]) => ({ a: a!, b: b!, duplicate: label === '1' }));
}

/**
 * Your own labelled pairs: a CSV (RFC 4180 quoting) with a header row and three columns, the two texts and a
 * label, `1` (or `true`, `yes`, `duplicate`) when they mean the same and `0` (`false`, `no`) when not. Any other
 * label, or a row of another length, is an error naming its line.
 */
export function parseLabelledCsv(csv: string, file: string): LabelledPair[] {
  const rows = parseCsv(csv).filter((row) => !(row.length === 1 && row[0] === ''));
  rows.shift(); // the header, whatever its names
  if (rows.length === 0) throw new Error(`${file}: no pair under the header row`);
  return rows.map((row, i) => {
    const line = i + 2;
    if (row.length !== 3) throw new Error(`${file}, row ${line}: expected 3 columns (text, text, label), got ${row.length}`);
    const label = row[2]!.trim().toLowerCase();
    const duplicate = ['1', 'true', 'yes', 'duplicate'].includes(label);
    if (!duplicate && !['0', 'false', 'no'].includes(label)) throw new Error(`${file}, row ${line}: label must be 1 or 0, got ${JSON.stringify(row[2])}`);
    return { a: row[0]!, b: row[1]!, duplicate };
  });
}

/** `id, sentence1, sentence2, label`, tab-separated, no header, no quoting. */
export function parsePaws(tsv: string): LabelledPair[] {
  return tsv
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, a, b, label] = line.replace(/\r$/, '').split('\t');
      return { a: a!, b: b!, duplicate: label === '1' };
    });
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}
