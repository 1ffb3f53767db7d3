/**
 * The one escaping layer for text that comes from traces (trace and case ids, tool names,
 * decisions, error messages, echoed bad lines, file names) on its way to a reader. Traces
 * come from production and may be written by someone hostile; each medium has one function
 * here, and every report and command goes through it. Pure.
 *
 * - Terminal: {@link forTerminal} for a value, {@link safeTerminalText} for whole output (which
 *   also keeps a CI log's reader from taking a line for a workflow command: {@link noWorkflowCommands}).
 * - Markdown (report.md, the PR comment, the step summary): {@link mdCode} for a value,
 *   {@link mdText} for prose that embeds values (gate reasons name trace ids).
 * - HTML: every report page is a Handlebars template, and `{{value}}` escapes; no template
 *   uses the unescaped `{{{value}}}`. {@link htmlCharacters} then escapes what HTML cannot hold.
 * - XML (JUnit): {@link forXml}.
 */

/**
 * Characters a reader must never receive raw: C0 and C1 controls (ESC starts the sequences
 * that retitle or clear a terminal), DEL, bidi overrides and isolates (U+202E shows text
 * reversed), invisible format characters (zero-width spaces and joiners, word joiner, BOM,
 * soft hyphen, tag characters), line and paragraph separators, and lone UTF-16 surrogates.
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\u{e0000}-\u{e0fff}\ud800-\udfff]/gu;

/** `\n`, `\x1b`, `\u202e`, `\u{e0041}`: the character as a visible escape. */
function visible(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (c === 10) return '\\n';
  if (c === 13) return '\\r';
  if (c === 9) return '\\t';
  if (c < 0x100) return `\\x${c.toString(16).padStart(2, '0')}`;
  if (c < 0x10000) return `\\u${c.toString(16).padStart(4, '0')}`;
  return `\\u{${c.toString(16)}}`;
}

/**
 * A value for the terminal: one line, every unsafe character shown as a visible escape
 * (`\x1b`, `\u202e`, `\n`). Backslashes are kept as they are, so a Windows path reads as itself.
 *
 * @example forTerminal('t-1\u001b]0;pwned\u0007') // 't-1\\x1b]0;pwned\\x07'
 */
export function forTerminal(value: unknown): string {
  return String(value).replace(UNSAFE, visible);
}

/** SGR colour sequences (`ESC [ 31 m`) that shadowgate's own diff output uses; they cannot move the cursor or retitle. */
const SGR = /^\u001b\[[0-9;]*m/;

/**
 * Whole output on its way to stdout or stderr: every unsafe character escaped except the
 * newlines that separate lines, a carriage return that starts a write (a progress bar
 * redrawing its line) and SGR colour codes. The last guard behind {@link forTerminal}: a value
 * interpolated unescaped can still split a line, but never control the terminal.
 */
export function safeTerminalText(text: string, { lineStart = true }: { lineStart?: boolean } = {}): string {
  const start = text.startsWith('\r') ? 1 : 0;
  const escaped =
    text.slice(0, start) +
    text.slice(start).replace(UNSAFE, (ch, offset: number, whole: string) => {
      if (ch === '\n') return ch;
      if (ch === '\u001b' && SGR.test(whole.slice(offset, offset + 16))) return ch;
      return visible(ch);
    });
  return noWorkflowCommands(escaped, lineStart || start === 1);
}

/**
 * A CI log's reader is a program too: GitHub Actions takes a line that starts with `::` (after
 * any spaces) as a workflow command (`::add-mask::`, `::error::`, `::stop-commands::`) and
 * `##[` anywhere in a line as one of its older form (`##[group]`), so that a trace id or tool
 * name printed there could mask the verdict, fold it away or annotate the run. Such text keeps
 * its look with one character shown as a visible escape (`\x3a::error::` is `:` `:error::`,
 * `#\x23[` is `##[`). shadowgate prints no workflow command of its own through here.
 * `lineStart`: whether `text` starts a line (the write before it ended one).
 */
export function noWorkflowCommands(text: string, lineStart = true): string {
  return text
    .replace(/(^|[\r\n])([^\S\r\n]*)::/g, (match, before: string, spaces: string, offset: number) => (offset === 0 && before === '' && !lineStart ? match : `${before}${spaces}\\x3a:`))
    .replace(/##\[/g, '#\\x23[');
}

/**
 * A value as a Markdown code span that its content cannot close: the fence is one backtick
 * longer than the longest run of backticks in it; newlines and other unsafe characters are
 * visible escapes, so the value stays on its line; in a table cell (`cell: true`) a pipe is
 * shown as `\x7c`, as GFM splits cells before it reads code spans (and parsers disagree on
 * `\\|`). Inside a code span nothing is HTML,
 * a link or emphasis.
 *
 * @example mdCode('a`b') // '``a`b``'
 */
export function mdCode(value: unknown, { cell = false }: { cell?: boolean } = {}): string {
  let text = shortened(forTerminal(value), MD_VALUE_MAX);
  if (cell) text = text.replace(/\|/g, '\\x7c');
  if (text === '') return '` `';
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  // A span that starts or ends with a backtick or a space needs one space of padding, which CommonMark strips.
  const pad = /^[` ]|[` ]$/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * The longest value (`mdCode`) and prose (`mdText`) a Markdown report holds, in characters: a
 * trace id of a megabyte would take a report past what GitHub keeps of a step summary (1 MiB,
 * beyond which it drops the whole summary, the verdict of every suite in the step with it) and
 * push the next suites out of a PR comment.
 */
const MD_VALUE_MAX = 200;
const MD_TEXT_MAX = 2000;

/** `text` cut to `max` characters, saying how long it was. */
function shortened(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/**
 * Prose that may embed trace values (a gate reason naming trace ids, a warning, a policy
 * message), as Markdown text that renders as itself on one line: unsafe characters are
 * visible escapes; `<`, `>` and `&` are entities (no raw HTML); the punctuation Markdown acts
 * on is backslash-escaped, so nothing opens emphasis, a code span, a link, an image, a
 * heading, a list (`-`, `+`, `1.` at the start), a table cell or math (`_` inside a word, as
 * in `issue_refund`, is left: it opens nothing); `://` and `www.` are escaped so that GitHub
 * builds no autolink, and `@` and `#` are code spans, so that no
 * mention or issue reference either (GitHub finds those in the rendered text).
 */
export function mdText(value: unknown): string {
  return shortened(forTerminal(value), MD_TEXT_MAX)
    .replace(/[\\`*[\]{}!|~$^]|:(?=\/\/)|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/(w)(ww)\./gi, '$1$2\\.')
    .replace(/[@#]+/g, '`$&`')
    // An emoji shortcode (`:white_check_mark:`) outside a code span is drawn as its emoji.
    .replace(/:(?=[a-z0-9_+-]*[a-z][a-z0-9_+-]*:)/gi, '`:`')
    .replace(/^(\d+)([.)])(?=\s|$)/, '$1\\$2')
    .replace(/^[-+](?=\s|$)|^[-=]+\s*$/, (m) => `\\${m}`);
}

/**
 * What an HTML page may not contain (parse errors): controls other than whitespace, lone
 * surrogates, noncharacters; and what a reader must not get raw there either: bidi overrides
 * and isolates (which reorder the page's own text after them in an element), invisible format
 * characters. shadowgate's templates use none of them.
 */
const NOT_HTML = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]|[\u{1fffe}\u{1ffff}\u{2fffe}\u{2ffff}\u{3fffe}\u{3ffff}\u{4fffe}\u{4ffff}\u{5fffe}\u{5ffff}\u{6fffe}\u{6ffff}\u{7fffe}\u{7ffff}\u{8fffe}\u{8ffff}\u{9fffe}\u{9ffff}\u{afffe}\u{affff}\u{bfffe}\u{bffff}\u{cfffe}\u{cffff}\u{dfffe}\u{dffff}\u{efffe}\u{effff}\u{ffffe}\u{fffff}\u{10fffe}\u{10ffff}]/gu;

/** A rendered HTML page with the characters HTML may not contain shown as visible escapes (markup is escaped by the template). */
export function htmlCharacters(html: string): string {
  return html.replace(NOT_HTML, visible);
}

/** XML 1.0 has no way to write these at all (controls other than tab and newlines, lone surrogates, U+FFFE/U+FFFF); bidi and invisible format characters are shown as escapes too, as for a terminal. */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufffe\uffff\ud800-\udfff]/gu;

/** Text for an XML attribute or element: markup escaped, characters XML cannot hold shown as visible escapes. */
export function forXml(value: unknown): string {
  return String(value)
    .replace(NOT_XML, visible)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
