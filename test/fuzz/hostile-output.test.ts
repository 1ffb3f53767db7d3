/**
 * Fuzz test of every output medium with random and hostile text in traces: control
 * characters, ESC sequences, bidi overrides, Markdown and HTML metacharacters, Handlebars
 * syntax, huge and deeply nested values, lone UTF-16 surrogates.
 *
 * Most cases render in-process: a real run's results file (the bundled synthetic
 * refund-triage traces) with hostile values put into it, merged back into a run (the code
 * `run` and `merge` use) and rendered by every report; the same run with plain values in the
 * same places is the twin each case is compared with. A few cases run the built CLI
 * (`node bin/shadowgate.js`) on hostile trace files: validate, run with reports, show.
 *
 * The seed is fixed so that CI runs the same cases; fast-check prints the seed and path of
 * a failing case. To try other cases: SHADOWGATE_FUZZ_SEED=<integer> npx vitest run test/fuzz
 * (SHADOWGATE_FUZZ_RUNS=<n> for more of them).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { marked, type Token } from 'marked';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeRuns } from '../../src/run/merge.js';
import { renderMarkdownReport } from '../../src/report/markdown.js';
import { isNotable, renderRunSummary } from '../../src/report/terminal.js';
import { renderTraceReplay } from '../../src/report/show.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { cli, copyExample, ROOT } from '../e2e/helpers.js';

const SEED = Number(process.env.SHADOWGATE_FUZZ_SEED ?? 20261215);
const RUNS = Number(process.env.SHADOWGATE_FUZZ_RUNS ?? 30);
/** A raw control, bidi or invisible format character, or a lone surrogate: none may reach a terminal. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const SNIPPETS = [
  '\u001b]0;pwned\u0007', '\u001b[2J', '\u001b[31m', '\u009b2J', '\r', '\n', '\n\n', '\t', '\u0000', '\u007f', '\u0085',
  '\u202e', '\u2066', '\u200b', '\u200f', '\ufeff', '\u2028', '\ud800', '\udfff', '\uffff', '\ufffe',
  '`', '```', '~~~', '## ✅ shadowgate: PASS', '# ', '- ', '1. ', '> ', '| a | b |', '|---|', '---', '***', '_', '*', '\\', '[x](javascript:alert(1))', '![i](x)',
  '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<!--', '-->', ']]>', '<![CDATA[', '&amp;', '&#0;', '"', "'", '<', '>', '&',
  '{{constructor.constructor "alert(1)"}}', '{{{x}}}', '{{> partial}}', '{{#each this}}', '${x}', '@everyone', '#1', 'https://evil.example', 'www.evil.example', '$x$',
];

/** A hostile string: snippets and random code units (lone surrogates among them), now and then huge. */
const hostile = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 4 })), { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.constantFrom(...SNIPPETS).map((s) => s.repeat(5_000)) },
);

/** A value nested `depth` levels deep (at most 100: deeper traces are a validation error of their own). */
const nest = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : depth % 2 ? { [`k${depth}`]: nest(depth - 1, leaf) } : [nest(depth - 1, leaf)]);

interface Values {
  ids: string[];
  decisions: string[];
  tools: string[];
  error: string;
  suite: string;
  candidate: string;
  warning: string;
  issueFile: string;
  issue: string;
  depth: number;
}
const values = fc.record({
  ids: fc.array(hostile, { minLength: 1, maxLength: 6 }),
  decisions: fc.array(hostile, { minLength: 1, maxLength: 3 }),
  tools: fc.array(hostile, { minLength: 1, maxLength: 3 }),
  error: hostile,
  suite: hostile,
  candidate: hostile,
  warning: hostile,
  issueFile: hostile,
  issue: hostile,
  depth: fc.integer({ min: 0, max: 100 }),
});

/** The same places with plain text: what a report of the same run without hostile values looks like. */
function plain(v: Values): Values {
  const p = (prefix: string) => (_: string, i: number) => `${prefix}${i}`;
  return { ids: v.ids.map(p('t')), decisions: v.decisions.map(p('d')), tools: v.tools.map(p('tool')), error: 'boom', suite: 'suite', candidate: 'cand', warning: 'warn', issueFile: 'f.jsonl', issue: 'bad', depth: v.depth };
}

type Doc = {
  suite: { name: string }; candidate: { label: string }; warnings: string[]; issues: { file: string; line?: number; message: string }[];
  settings: { baseline?: { rows: { traceId: string }[] } };
  results: { traceId: string; status: string; agree: boolean | null; decision: unknown; error: unknown; reference: { decision: unknown; tools: string[] }; steps: { type: string; name?: string }[] }[];
};

let dir: string;
let cleanup: () => void;
let template: string;

beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  // A small run of the bundled traces, paired with a baseline, as a results file (a shard of one, so that merge reads it).
  const traces = readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').trim().split('\n').slice(0, 30);
  mkdirSync(join(dir, 'small'));
  writeFileSync(join(dir, 'small/traces.jsonl'), `${traces.join('\n')}\n`);
  const suite = (file: string) => readFileSync(join(dir, 'suites', file), 'utf8').replace('../traces/refund-triage/*.jsonl', '../small/*.jsonl').replace(/^name: .*$/m, 'name: refund-triage');
  writeFileSync(join(dir, 'suites/small-policy.yaml'), suite('refund-triage.yaml'));
  writeFileSync(join(dir, 'suites/small-regression.yaml'), suite('refund-triage-regression.yaml'));
  expect((await cli(dir, 'run', 'suites/small-policy.yaml', '--json', 'base.json', '--db', 'db/f.db')).code).toBeLessThan(2);
  expect((await cli(dir, 'run', 'suites/small-regression.yaml', '--baseline', 'base.json', '--shard', '1/1', '--json', 'run.json', '--db', 'db/f.db')).code).toBeLessThan(2);
  template = readFileSync(join(dir, 'run.json'), 'utf8');
});
afterAll(() => cleanup());

/** The run with `v` in the places trace text reaches: trace ids (and the baseline's), decisions, tool names, an error, warnings, a bad line. */
function runWith(v: Values, file: string) {
  const doc = JSON.parse(template) as Doc;
  doc.suite.name = v.suite;
  doc.candidate.label = v.candidate;
  doc.warnings = [v.warning];
  doc.issues = [{ file: v.issueFile, line: 3, message: v.issue }];
  const rename = new Map<string, string>();
  v.ids.forEach((id, i) => {
    const r = doc.results[i * 4]!;
    rename.set(r.traceId, `${id}-${i}`);
    r.traceId = `${id}-${i}`;
  });
  for (const row of doc.settings.baseline?.rows ?? []) row.traceId = rename.get(row.traceId) ?? row.traceId;
  v.decisions.forEach((d, i) => {
    const r = doc.results[i * 3 + 1]!;
    r.decision = { action: d, detail: nest(v.depth, d) };
    r.reference.decision = { action: `${d}!` };
    r.agree = false;
  });
  v.tools.forEach((t, i) => {
    const r = doc.results[i * 5 + 2]!;
    for (const s of r.steps) if (s.type === 'tool') s.name = t;
    r.reference.tools = r.reference.tools.map((name, j) => (j === 0 ? t : name));
  });
  const failed = doc.results[doc.results.length - 1]!;
  Object.assign(failed, { status: 'error', agree: null, decision: null, error: { code: 'CANDIDATE_THREW', message: v.error } });
  writeFileSync(file, JSON.stringify(doc));
  return mergeRuns([file], new Date('2026-12-01T00:00:00Z'));
}

function render(v: Values, file: string) {
  const { outcome, results } = runWith(v, file);
  return {
    terminal: renderRunSummary(outcome, results.filter(isNotable).slice(0, 10)),
    show: results.map(renderTraceReplay).join(''),
    markdown: renderMarkdownReport(outcome, outcome.metrics),
    junit: renderJunit(outcome, results),
    html: renderHtmlReport(outcome, results),
  };
}

/** The block structure of a Markdown document: block types, heading depths, list lengths, table shapes, and the links and HTML in it. */
function blocks(md: string): string[] {
  const out: string[] = [];
  const inline = (list: Token[] | undefined) => {
    for (const t of list ?? []) {
      if (t.type === 'link' || t.type === 'image' || t.type === 'html') out.push(`${t.type}:${t.raw}`);
      inline((t as { tokens?: Token[] }).tokens);
    }
  };
  for (const t of marked.lexer(md)) {
    if (t.type === 'space') continue;
    if (t.type === 'heading') out.push(`h${t.depth}`);
    else if (t.type === 'list') out.push(`list ${t.items.length}`);
    else if (t.type === 'table') out.push(`table ${t.header.length}x${t.rows.length} ${t.rows.every((r: unknown[]) => r.length === t.header.length)}`);
    else out.push(t.type);
    if (t.type === 'table') for (const cell of [...t.header, ...t.rows.flat()]) inline(cell.tokens);
    else if (t.type === 'list') for (const item of t.items) inline(item.tokens);
    else inline((t as { tokens?: Token[] }).tokens);
  }
  return out;
}

/** The element names of an HTML document in document order, and the parser's complaints. */
function elements(html: string): { tags: string[]; errors: string[] } {
  const errors: string[] = [];
  const doc = parse(html, { onParseError: (e) => errors.push(e.code) });
  const tags: string[] = [];
  const walk = (node: DefaultTreeAdapterMap['parentNode']) => {
    for (const child of node.childNodes) {
      if ('tagName' in child) {
        tags.push(child.tagName + child.attrs.filter((a) => /^on/i.test(a.name)).map((a) => `[${a.name}]`).join(''));
        walk(child);
        if (child.tagName === 'template') walk((child as DefaultTreeAdapterMap['template']).content);
      }
    }
  };
  walk(doc);
  return { tags, errors };
}

const lines = (text: string) => text.split('\n').length;

describe('hostile trace text through every report (fast-check)', () => {
  it(`keeps each medium's structure (seed ${SEED}, ${RUNS} cases)`, () => {
    const file = join(dir, 'fuzz.json');
    fc.assert(
      fc.property(values, (v) => {
        const bad = render(v, file);
        const twin = render(plain(v), file);
        // Terminal: nothing raw, and every value on its line: as many lines as the plain twin.
        expect(bad.terminal).not.toMatch(RAW);
        expect(bad.show).not.toMatch(RAW);
        expect(lines(bad.terminal)).toBe(lines(twin.terminal));
        expect(lines(bad.show)).toBe(lines(twin.show));
        // Markdown (report.md, the PR comment): the block structure of the twin, no link or HTML added.
        expect(blocks(bad.markdown)).toEqual(blocks(twin.markdown));
        expect(bad.markdown).not.toMatch(RAW);
        // JUnit: well-formed XML with a test case per trace.
        expect(XMLValidator.validate(bad.junit)).toBe(true);
        const cases = (xml: string) => [new XMLParser({ ignoreAttributes: false }).parse(xml).testsuites.testsuite.testcase].flat().length;
        expect(cases(bad.junit)).toBe(cases(twin.junit));
        // HTML: the twin's elements, no event handler, no more parse errors.
        const [h, t] = [elements(bad.html), elements(twin.html)];
        expect(h.tags).toEqual(t.tags);
        expect(h.errors).toEqual(t.errors);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});

describe('hostile trace files through the CLI (fast-check)', () => {
  const shadowgate = (cwd: string, ...args: string[]) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/shadowgate.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
  };

  it(`validate, run and show exit 0-2 and print nothing raw (seed ${SEED})`, () => {
    let n = 0;
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 100 }), (texts, depth) => {
        const cwd = join(dir, `cli-${n++}`);
        mkdirSync(join(cwd, 'h'), { recursive: true });
        const traces = readFileSync(join(dir, 'small/traces.jsonl'), 'utf8').trim().split('\n').slice(0, 8).map((l) => JSON.parse(l));
        const [id, decision, ticket, tool] = texts as [string, string, string, string];
        traces[0].id = `${id}-0`;
        traces[1].human.decision.action = decision;
        traces[2].input.ticket_text = nest(depth, ticket);
        traces[3].steps.filter((s: { type: string }) => s.type === 'tool').forEach((s: { name: string }) => (s.name = tool));
        writeFileSync(join(cwd, 'h/traces.jsonl'), `${traces.map((t) => JSON.stringify(t)).join('\n')}\n${id}\n`);
        const suite = readFileSync(join(dir, 'suites/small-policy.yaml'), 'utf8').replace('../small/*.jsonl', '../h/*.jsonl').replace(/\.\.\/fixtures/g, join(dir, 'fixtures'));
        mkdirSync(join(cwd, 'suites'));
        writeFileSync(join(cwd, 'suites/s.yaml'), suite);
        const validate = shadowgate(cwd, 'validate', 'h');
        expect([0, 2]).toContain(validate.code);
        expect(validate.out).not.toMatch(RAW);
        const run = shadowgate(cwd, 'run', 'suites/s.yaml', '--report', 'out', '--db', 'db.db');
        expect([0, 1]).toContain(run.code);
        expect(run.out).not.toMatch(RAW);
        const md = readFileSync(join(cwd, 'out/report.md'), 'utf8');
        expect(blocks(md).filter((b) => b === 'h2')).toHaveLength(1);
        expect(blocks(md).filter((b) => /^(link|image|html):/.test(b))).toEqual(['html:<sub>', 'html:</sub>']);
        const runId = JSON.parse(readFileSync(join(cwd, 'out/results.json'), 'utf8')).runId as string;
        const list = shadowgate(cwd, 'show', runId, '--db', 'db.db');
        expect(list.code).toBe(0);
        expect(list.out).not.toMatch(RAW);
        // A trace id the schema refuses makes its line a bad line: then show has no such trace (exit 2).
        const one = shadowgate(cwd, 'show', runId, `${id}-0`, '--db', 'db.db');
        expect([0, 2]).toContain(one.code);
        expect(one.out).not.toMatch(RAW);
      }),
      { seed: SEED, numRuns: Number(process.env.SHADOWGATE_FUZZ_CLI_RUNS ?? 3) },
    );
  }, 120_000);
});
