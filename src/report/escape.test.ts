import { describe, expect, it } from 'vitest';
import { marked, type Token } from 'marked';
import { terminalIo } from '../cli/io.js';
import { forTerminal, forXml, htmlCharacters, mdCode, mdText, noWorkflowCommands, safeTerminalText } from './escape.js';

const TITLE_AND_CLEAR = '\u001b]0;pwned\u0007\u001b[2J';

/** Every token of a Markdown document, depth first, with the types of the blocks at the top. */
function tokens(md: string): { blocks: string[]; all: Token[] } {
  const top = marked.lexer(md);
  const all: Token[] = [];
  const walk = (list: Token[]) => {
    for (const t of list) {
      all.push(t);
      const children = (t as { tokens?: Token[] }).tokens;
      if (children) walk(children);
      if (t.type === 'table') for (const cell of [...t.header, ...t.rows.flat()]) walk(cell.tokens);
      if (t.type === 'list') walk(t.items);
    }
  };
  walk(top);
  return { blocks: top.map((t) => t.type), all };
}

describe('forTerminal', () => {
  it('shows controls, ESC sequences, bidi and invisible characters and lone surrogates as visible escapes, on one line', () => {
    expect(forTerminal(`t-1${TITLE_AND_CLEAR}`)).toBe(String.raw`t-1\x1b]0;pwned\x07\x1b[2J`);
    expect(forTerminal('a\u202eb\u200bc\u2066d\ufeffe\u0085f\u007f')).toBe(String.raw`a\u202eb\u200bc\u2066d\ufeffe\x85f\x7f`);
    expect(forTerminal('one\ntwo\r\tthree')).toBe(String.raw`one\ntwo\r\tthree`);
    expect(forTerminal('lone \ud800 and \udc00; pair \ud83d\ude00')).toBe(String.raw`lone \ud800 and \udc00; pair ` + '\ud83d\ude00');
    expect(forTerminal('tag \u{e0041}')).toBe(String.raw`tag \u{e0041}`);
  });

  it('leaves ordinary text, accents and emoji alone', () => {
    const text = 'refund ≤ 500 USD · Zoë 🙂 C:\\path\\file';
    expect(forTerminal(text)).toBe(text);
  });
});

describe('safeTerminalText', () => {
  it('keeps the newlines between lines, a leading carriage return and colour codes, and escapes the rest', () => {
    expect(safeTerminalText(`\rbar\n\u001b[31m- old\u001b[0m\n${TITLE_AND_CLEAR}\r\u202e`)).toBe(
      `\rbar\n\u001b[31m- old\u001b[0m\n${String.raw`\x1b]0;pwned\x07\x1b[2J\r\u202e`}`,
    );
  });
});

describe('noWorkflowCommands', () => {
  it('leaves no line that starts with :: after spaces, and no ##[ anywhere, for a CI log to take as a command', () => {
    expect(noWorkflowCommands('    ::error title=x::PASS\n\u00a0::add-mask::FAIL\nok ::notice:: mid\n##[group]x a##[endgroup]')).toBe(
      String.raw`    \x3a:error title=x::PASS` + '\n\u00a0' + String.raw`\x3a:add-mask::FAIL` + '\nok ::notice:: mid\n' + String.raw`#\x23[group]x a#\x23[endgroup]`,
    );
    // A write that continues a line is not a line start; the terminal writer knows which it is.
    expect(noWorkflowCommands('::x', false)).toBe('::x');
    let out = '';
    const io = terminalIo({ stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, env: {}, cwd: '.' });
    for (const part of ['progress ', '::a\n', '::b', '\r::c\n']) io.stdout.write(part);
    expect(out).toBe(`progress ::a\n${String.raw`\x3a:b`}\r${String.raw`\x3a:c`}\n`);
  });
});

describe('mdCode', () => {
  it('is a code span that its content cannot close, whatever backticks it holds', () => {
    for (const value of ['plain', 'a`b', '``x``', '`lead', 'trail`', ' spaced ', '```\n## ✅ shadowgate: PASS\n[x](javascript:alert(1))']) {
      const md = `- ${mdCode(value)} after`;
      const { blocks, all } = tokens(md);
      expect(blocks).toEqual(['list']);
      const spans = all.filter((t) => t.type === 'codespan');
      expect(spans).toHaveLength(1);
      expect((spans[0] as Token & { text: string }).text).toBe(forTerminal(value));
      expect(all.some((t) => t.type === 'link' || t.type === 'heading' || t.type === 'html')).toBe(false);
    }
  });

  it('keeps a table row one row: pipes in a cell are shown escaped', () => {
    const md = ['| tool | calls |', '|---|---|', `| ${mdCode('a|b\n| x | y |', { cell: true })} | 1 |`].join('\n');
    const [table] = marked.lexer(md);
    expect(table?.type).toBe('table');
    expect(table?.type === 'table' && table.rows.map((r: unknown[]) => r.length)).toEqual([2]);
  });

  it('writes an empty value as a visible span', () => {
    expect(tokens(mdCode('')).all.some((t) => t.type === 'codespan')).toBe(true);
  });
});

describe('mdText', () => {
  it('renders as its own text: no HTML, link, autolink, emphasis or code span from the value', () => {
    const value = '<img src=x onerror=alert(1)> [a](javascript:alert(1)) https://evil.example www.evil.example me@evil.example *em* `c` & ~~s~~ $x$';
    const { all } = tokens(`- **reason**: ${mdText(value)}`);
    // `@` alone in a code span: GitHub makes no mention of it.
    expect(all.filter((t) => !['list', 'list_item', 'text', 'strong', 'escape', 'paragraph'].includes(t.type)).map((t) => t.raw)).toEqual(['`@`']);
    const html = marked.parse(`x ${mdText(value)}`) as string;
    expect(html.replace('<code>@</code>', '')).not.toMatch(/<img|<a |<em>|<code>|<del>/);
  });

  it('draws no emoji from a shortcode: its colon in a code span, which GitHub leaves as it is', () => {
    expect(mdText('traces/:white_check_mark: gate PASS :rocket:.jsonl')).toBe('traces/`:`white_check_mark: gate PASS `:`rocket:.jsonl');
    // A time or a URL scheme is not a shortcode.
    expect(mdText('at 10:30:00')).toBe('at 10:30:00');
  });

  it('cannot start a heading, a list or a table row, and folds newlines', () => {
    for (const value of ['# heading', '- item', '1. item', '| a | b |', '> quote', 'x\n\n## ✅ shadowgate: PASS']) {
      expect(tokens(mdText(value)).blocks).toEqual(['paragraph']);
    }
  });
});

describe('forXml', () => {
  it('escapes markup and shows what XML cannot hold, and bidi overrides, as visible escapes', () => {
    expect(forXml(`<a b="c">&'\u0001\uffff\ud800\u202e`)).toBe(String.raw`&lt;a b=&quot;c&quot;&gt;&amp;&apos;\x01\uffff\ud800\u202e`);
  });
});

describe('htmlCharacters and Markdown lengths', () => {
  it('shows bidi overrides and invisible characters in a page as escapes, and keeps a Markdown value or prose to a bounded length', () => {
    expect(htmlCharacters('<td>refund\u202e} ecnerefer ·</td>\u200b')).toBe(String.raw`<td>refund\u202e} ecnerefer ·</td>\u200b`);
    const huge = `stranger-${'A'.repeat(1_100_000)}`;
    expect(mdCode(huge).length).toBeLessThan(300);
    expect(mdCode(huge)).toContain('… (1100009 characters)');
    expect(mdText(huge).length).toBeLessThan(2100);
  });
});
