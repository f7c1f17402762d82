/**
 * What a benchmark hands back to `bench/run.ts` for docs/benchmarks.md. A bench that only prints returns nothing.
 */
export interface BenchSection {
  /** Heading of the section in docs/benchmarks.md. */
  readonly title: string;
  /** One sentence with the headline figure, listed at the top of docs/benchmarks.md. */
  readonly summary?: string;
  /** Markdown body: how it was measured, the table of figures, and a reference to its plot. */
  readonly markdown: string;
  /** SVG plots to write next to docs/benchmarks.md, by file name (e.g. `benchmarks-overhead.svg`). */
  readonly plots?: Readonly<Record<string, string>>;
  /** The bench's verdict in one line, printed again as the very last output of `npm run bench` (issue 15). */
  readonly lastLine?: string;
}

/** A markdown table; numbers are expected pre-formatted so each bench chooses its precision. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A plain-text table for the console, columns padded to their widest cell. */
export function consoleTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatInteger(n: number): string {
  return Math.round(n).toLocaleString('en');
}
