/**
 * Every relative link of README.md and docs/ leads somewhere in the published package: the page it names is in
 * what `npm pack` ships (or, for a page that is not shipped, in the repository), and its #anchor is a heading of
 * that page. A link out of the repository (../shared/...) is dead for every reader and fails here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { markdownPages, root, withoutFences } from './markdown.support.js';

/** Markdown without its code: fenced blocks and inline code hold no links. */
function prose(page: string, markdown: string): string {
  return withoutFences(page, markdown).replace(/`[^`\n]*`/g, '');
}

/** Inline links and images, and reference definitions: `[text](target)`, `![alt](target)`, `[ref]: target`. */
function linksOf(page: string, markdown: string): string[] {
  const text = prose(page, markdown);
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const references = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

/** GitHub's anchors for the headings of a page. */
function anchorsOf(page: string, markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutBlocks = withoutFences(page, markdown);
  for (const [, heading] of withoutBlocks.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

let shipped: Set<string>;
beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  shipped = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
}, 60_000);

const all = markdownPages();

describe('relative links of README.md and docs/', () => {
  it('the package ships the README and the docs it links to', () => {
    expect(shipped.has('README.md')).toBe(true);
    expect(shipped.has('docs/architecture.md')).toBe(true);
    expect([...shipped].filter((f) => f.startsWith('docs/snippets/')), 'docs/snippets/ is not shipped').toEqual([]);
  });

  it('finds the links', () => {
    expect(linksOf('README.md', readFileSync(join(root, 'README.md'), 'utf8'))).toContain('docs/architecture.md');
    const sample = '[a](b.md#c) ![d](e.svg) `[f](g.md)`\n[h]: i.md\n```\n[j](k.md)\n```\n';
    expect(linksOf('test', sample)).toEqual(['b.md#c', 'e.svg', 'i.md']);
    const headings = '# A `b`: c/d\n## Options\n## Options\n';
    expect(anchorsOf('test', headings)).toEqual(new Set(['a-b-cd', 'options', 'options-1']));
  });

  it.each(all)('%s: every relative link resolves', (page) => {
    const markdown = readFileSync(join(root, page), 'utf8');
    const pageShipped = shipped.has(page);
    const dead: string[] = [];
    for (const link of linksOf(page, markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
      const [path = '', anchor] = link.split('#', 2);
      const target = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
      if (relative(root, join(root, target)).startsWith('..')) {
        dead.push(`${link}: outside the repository`);
        continue;
      }
      if (!existsSync(join(root, target))) {
        dead.push(`${link}: ${target} does not exist`);
        continue;
      }
      if (pageShipped && !shipped.has(target)) {
        dead.push(`${link}: ${target} is not in the package (package.json "files"), so the link is dead on npm`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md')) {
        const anchors = anchorsOf(target, readFileSync(join(root, target), 'utf8'));
        if (!anchors.has(anchor)) dead.push(`${link}: ${target} has no heading #${anchor}`);
      }
    }
    expect(dead).toEqual([]);
  });
});
