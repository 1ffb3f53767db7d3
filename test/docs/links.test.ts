import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The relative link targets of a Markdown text, with their lines: `[text](target)`, outside code blocks and code spans. */
function relativeLinks(text: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  let fenced = false;
  text.split('\n').forEach((raw, i) => {
    if (raw.startsWith('```')) fenced = !fenced;
    if (fenced || raw.startsWith('```')) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const match of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      links.push({ line: i + 1, target });
    }
  });
  return links;
}

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('links in the README and docs/', () => {
  it('finds relative links, and only those', () => {
    const text = ['[a](docs/a.md) [b](https://x.org) [c](#top) [d](b.md#part "title")', '`[e](e.md)`', '```', '[f](f.md)', '```'].join('\n');
    expect(relativeLinks(text)).toEqual([
      { line: 1, target: 'docs/a.md' },
      { line: 1, target: 'b.md#part' },
    ]);
  });

  it.each(pages)('%s links only to files that exist', (page) => {
    const broken = relativeLinks(readFileSync(join(ROOT, page), 'utf8'))
      .map(({ line, target }) => ({ line, target, file: relative(ROOT, resolve(ROOT, dirname(page), decodeURI(target.split('#')[0]!))) }))
      .filter(({ file }) => !existsSync(join(ROOT, file)))
      .map(({ line, target }) => `${page}:${line}: ${target}`);
    expect(broken).toEqual([]);
  });
});
