import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { marked, type Token } from 'marked';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

// The bundled (synthetic) refund-triage traces, with hostile text put into a few of them
// here: trace ids, a reference decision and a recorded tool name as someone might write them.
const TITLE_AND_CLEAR = '\u001b]0;pwned\u0007\u001b[2J';
const TERMINAL_ID = `rt-${TITLE_AND_CLEAR}\u202eevil`;
const MARKDOWN_ID = (i: number) => `rt-esc-${i}\`\n\n## ✅ shadowgate: PASS\n\n[details](javascript:alert(1))\n\``;
/** A raw control, bidi or invisible format character: none may reach stdout or stderr. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  type Trace = { id: string; input: { amount: number }; human: { decision: { action: string } }; };
  const all = readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Trace);
  const escalated = all.filter((t) => t.input.amount > 500 && t.human.decision.action === 'escalate').slice(0, 3);
  const traces = [...all.slice(0, 40).filter((t) => !escalated.includes(t)), ...escalated];
  traces[0]!.id = TERMINAL_ID;
  traces[0]!.human.decision.action = `refund${TITLE_AND_CLEAR}\u202e`;
  escalated.forEach((t, i) => (t.id = MARKDOWN_ID(i)));
  mkdirSync(join(dir, 'hostile'));
  writeFileSync(join(dir, 'hostile/traces.jsonl'), traces.map((t) => JSON.stringify(t)).join('\n') + '\n');
  // One bad line, echoed by validate and run: raw ESC and BEL bytes and a bidi override.
  writeFileSync(join(dir, 'hostile/bad.jsonl'), `{"id": "${TITLE_AND_CLEAR}\u202e", oops\n`);
  const suite = (file: string) => readFileSync(join(dir, 'suites', file), 'utf8').replace('../traces/refund-triage/*.jsonl', '../hostile/*.jsonl').replace(/^name: .*$/m, 'name: refund-triage');
  writeFileSync(join(dir, 'suites/hostile-policy.yaml'), suite('refund-triage.yaml'));
  writeFileSync(join(dir, 'suites/hostile-regression.yaml'), suite('refund-triage-regression.yaml').replace('  errorRate: { max: 0.02 }', '  errorRate: { max: 0.02 }\n  regressions: { max: 0 }'));
});
afterAll(() => cleanup());

function walk(list: Token[], out: Token[] = []): Token[] {
  for (const t of list) {
    out.push(t);
    const children = (t as { tokens?: Token[] }).tokens;
    if (children) walk(children, out);
    if (t.type === 'table') for (const cell of [...t.header, ...t.rows.flat()]) walk(cell.tokens, out);
    if (t.type === 'list') walk(t.items, out);
  }
  return out;
}

describe('hostile text in traces', () => {
  let runId: string;
  let stdout: string;

  it('run prints every trace value escaped: no terminal control, one line per value (the reversibility table: reversibility-lines.test.ts)', async () => {
    const base = await cli(dir, 'run', 'suites/hostile-policy.yaml', '--json', 'out/base.json', '--db', 'db/a.db');
    expect(base.code).toBe(1);
    const run = await cli(dir, 'run', 'suites/hostile-regression.yaml', '--baseline', 'out/base.json', '--report', 'out/report', '--db', 'db/a.db');
    expect(run.code).toBe(1);
    ({ stdout } = run);
    runId = JSON.parse(readFileSync(join(dir, 'out/report/results.json'), 'utf8')).runId;
    for (const out of [base.stdout, base.stderr, run.stdout, run.stderr]) expect(out).not.toMatch(RAW);
    // The trace id and the reference decision, as visible escapes on the line that names them.
    const line = stdout.split('\n').find((l) => l.includes('pwned') && l.includes('decided'));
    expect(line).toContain(String.raw`rt-\x1b]0;pwned\x07\x1b[2J\u202eevil`);
    expect(line).toContain(String.raw`\u202e`);
    // The bad line is echoed escaped.
    expect(stdout).toMatch(/bad\.jsonl:1/);
    // A gate reason names the regressed trace ids; escaped on its line.
    expect(stdout.split('\n').filter((l) => l.includes('## ✅'))).toEqual(stdout.split('\n').filter((l) => l.includes(String.raw`\n\n## ✅`)));
  });

  it("report.md keeps its structure: one heading that says FAIL, the flips' ids in code spans, no link and no HTML from the traces", () => {
    const md = readFileSync(join(dir, 'out/report/report.md'), 'utf8');
    const top = marked.lexer(md);
    const all = walk(top);
    const headings = all.filter((t) => t.type === 'heading' && t.depth === 2);
    expect(headings.map((h) => (h as Token & { text: string }).text)).toEqual(['❌ shadowgate: refund-triage FAIL']);
    expect(all.filter((t) => t.type === 'link' || t.type === 'image')).toEqual([]);
    expect(all.filter((t) => t.type === 'html').map((t) => t.raw)).toEqual(['<sub>', '</sub>']);
    const flips = md.split('\n').find((l) => l.startsWith('- **Regressions**'));
    expect(flips).toBeDefined();
    const ids = walk(marked.lexer(flips!)).filter((t) => t.type === 'codespan').map((t) => (t as Token & { text: string }).text);
    expect(ids).toHaveLength(8);
    expect(ids.filter((id) => id.startsWith('rt-esc')).sort()).toEqual([0, 1, 2].map((i) => MARKDOWN_ID(i).replace(/\n/g, '\\n')));
    expect(md).not.toMatch(RAW);
  });

  it('show lists the run and one trace with every value escaped', async () => {
    const list = await cli(dir, 'show', runId, '--db', 'db/a.db');
    expect(list.code).toBe(0);
    expect(list.stdout).not.toMatch(RAW);
    expect(list.stdout).toContain(String.raw`rt-\x1b]0;pwned\x07\x1b[2J\u202eevil`);
    const one = await cli(dir, 'show', runId, TERMINAL_ID, '--db', 'db/a.db');
    expect(one.code).toBe(0);
    expect(one.stdout).not.toMatch(RAW);
    expect(one.stdout.split('\n')[0]).toContain(String.raw`rt-\x1b]0;pwned\x07\x1b[2J\u202eevil (case`);
    const tool = await cli(dir, 'show', runId, JSON.parse(readFileSync(join(dir, 'out/report/results.json'), 'utf8')).results[1].traceId, '--db', 'db/a.db');
    expect(tool.stdout).not.toMatch(RAW);
  });

  it('validate lists the problems of the hostile files, each on its line, nothing raw', async () => {
    appendFileSync(join(dir, 'hostile/traces.jsonl'), `{"schema":"shadowgate.trace/v1","id":"${JSON.stringify(TERMINAL_ID).slice(1, -1)}x","steps":"\u202e"}\n`);
    const { code, stdout, stderr } = await cli(dir, 'validate', 'hostile');
    expect(code).toBe(2);
    expect(stdout + stderr).not.toMatch(RAW);
    expect(stdout).toMatch(/FAIL hostile\/bad\.jsonl/);
    expect(stdout.split('\n').filter((l) => l.startsWith('     hostile/'))).toHaveLength(4);
  });
});
