/** Reading the project's Markdown pages, for the documentation tests (snippets, links). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** README.md and every page under docs/, as paths from the repository root. */
export function markdownPages(): string[] {
  const pages = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) pages.push(path);
    }
  };
  walk('docs');
  return pages.sort();
}

export interface Fence {
  /** The info string's first word: `ts`, `sh`, or '' for none. */
  lang: string;
  /** 0-based lines of the opening and the closing fence. */
  open: number;
  close: number;
}

/** The fenced code blocks of a page, CommonMark style: a fence closes with at least as many of the same character. */
export function fencesOf(page: string, lines: readonly string[]): Fence[] {
  const fences: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, marker, lang = ''] = open;
    const closing = new RegExp(`^ {0,3}${marker![0] === '`' ? '`' : '~'}{${marker!.length},}\\s*$`);
    const close = lines.findIndex((line, j) => j > i && closing.test(line));
    if (close < 0) throw new Error(`${page}:${i + 1}: a code fence that never closes`);
    fences.push({ lang, open: i, close });
    i = close;
  }
  return fences;
}

/** The page with its fenced blocks blanked (line numbers kept). */
export function withoutFences(page: string, markdown: string): string {
  const lines = markdown.split('\n');
  for (const { open, close } of fencesOf(page, lines)) lines.fill('', open, close + 1);
  return lines.join('\n');
}
