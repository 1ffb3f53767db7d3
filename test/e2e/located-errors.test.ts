import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TRACE_DEPTH } from '../../src/trace/schema.js';
import { cli } from './helpers.js';

// Every bad input is an error at its place: YAML syntax at file:line:col, a bad trace line
// counted once however many problems it has, and a trace nested too deeply refused where it is
// read. The files are made up here; the candidate is a module that never reads its input.
let dir: string;
const trace = (id: string, extra: Record<string, unknown> = {}) => ({
  schema: 'shadowgate.trace/v1',
  id,
  workflow: 'w',
  input: { id },
  steps: [],
  human: { decision: 'ok' },
  ...extra,
});
const SUITE = 'name: located\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: agent.mjs }\n';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-located-'));
  writeFileSync(join(dir, 'tools.yaml'), 'tools:\n  - name: lookup\n    effect: read\n');
  writeFileSync(join(dir, 'agent.mjs'), "export async function run() { return { decision: 'ok' }; }\n");
  writeFileSync(join(dir, 'suite.yaml'), SUITE);
  writeFileSync(join(dir, 'broken-suite.yaml'), `${SUITE}  kind: tool-loop\n`);
  writeFileSync(join(dir, 'broken-tools.yaml'), 'tools:\n  - name: lookup\n    effect: read\n    effect: write-external\n');
  writeFileSync(join(dir, 'broken-drift.yaml'), 'window: 7d\nthresholds: { maxJsd: 0.1\n');
  // Line 2: three problems on one line; line 3: nested 10,000 levels (written out as text: JSON.stringify would overflow).
  const deep = JSON.stringify(trace('deep', { input: { payload: 'DEEP' } })).replace('"DEEP"', `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
  const threeProblems = { ...trace('bad'), workflow: '', trial: -1, steps: 'none' };
  writeFileSync(join(dir, 'traces.jsonl'), [trace('t1'), threeProblems, 'DEEP', trace('t4')].map((t) => (t === 'DEEP' ? deep : JSON.stringify(t))).join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('YAML syntax errors', () => {
  it('are config errors at file:line:col in run (exit 2, no stack)', async () => {
    const { code, stderr } = await cli(dir, 'run', 'broken-suite.yaml', '--db', 'yaml.db');
    expect(code).toBe(2);
    expect(stderr).toBe(`error: invalid configuration:\n  ${join(dir, 'broken-suite.yaml')}:5:1: invalid YAML: All mapping items must start at the same column\n`);
  });

  it('are listed at file:line:col by validate, for a suite and a tool catalog alike', async () => {
    const { code, stdout } = await cli(dir, 'validate', 'broken-suite.yaml', 'broken-tools.yaml');
    expect(code).toBe(2);
    expect(stdout).toContain('     broken-suite.yaml:5:1: invalid YAML: All mapping items must start at the same column\n');
    expect(stdout).toContain('     broken-tools.yaml:4:5: invalid YAML: Map keys must be unique\n');
  });

  it('are config errors at file:line:col in a drift config', async () => {
    const { code, stderr } = await cli(dir, 'drift', 'traces.jsonl', '--config', 'broken-drift.yaml');
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^error: invalid configuration:\\n  ${join(dir, 'broken-drift.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a \\}\\n`));
  });
});

describe('bad trace lines', () => {
  it('are counted as lines, with their problems beside', async () => {
    const { stdout } = await cli(dir, 'run', 'suite.yaml', '--db', 'lines.db', '--json', 'lines.json');
    const out = JSON.parse(readFileSync(join(dir, 'lines.json'), 'utf8'));
    const badLines = new Set(out.issues.map((i: { line: number }) => i.line));
    expect([...badLines].sort()).toEqual([2, 3]);
    expect(out.issues.filter((i: { line: number }) => i.line === 2)).toHaveLength(3);
    expect(stdout).toContain(`  ${badLines.size} bad trace line(s) skipped (${out.issues.length} problems):\n`);
  });
});

describe(`a trace nested deeper than ${MAX_TRACE_DEPTH} levels`, () => {
  // The path is shown to its first 8 keys: the trace's input, then the arrays' first items.
  const where = `${['input', 'payload', 0, 0, 0, 0, 0, 0].join('.')}.…`;

  it('is a located validation error in validate', async () => {
    const { code, stdout } = await cli(dir, 'validate', 'traces.jsonl');
    expect(code).toBe(2);
    expect(stdout).toContain(`     traces.jsonl:3: ${where}: nested deeper than ${MAX_TRACE_DEPTH} levels of arrays and objects (the limit of a trace); the path goes on for `);
  });

  it('is the same located issue in run, never a candidate error: the other traces run', async () => {
    const { stdout } = await cli(dir, 'run', 'suite.yaml', '--db', 'deep.db', '--json', 'deep.json');
    const out = JSON.parse(readFileSync(join(dir, 'deep.json'), 'utf8'));
    expect(out.issues.filter((i: { line: number }) => i.line === 3)).toEqual([
      { file: 'traces.jsonl', line: 3, path: where, message: expect.stringMatching(new RegExp(`^nested deeper than ${MAX_TRACE_DEPTH} levels`)) as unknown as string },
    ]);
    expect(out.results.map((r: { traceId: string; status: string }) => [r.traceId, r.status])).toEqual([['t1', 'completed'], ['t4', 'completed']]);
    expect(stdout).not.toMatch(/CANDIDATE_THREW|Maximum call stack/);
  });
});

describe('a stored result that is not JSON', () => {
  it('is a store error naming the store, the run and the trace in show and drift (exit 2, no stack)', async () => {
    writeFileSync(join(dir, 'good.jsonl'), `${['t1', 't2', 't3'].map((id) => JSON.stringify(trace(id))).join('\n')}\n`);
    writeFileSync(join(dir, 'good-suite.yaml'), SUITE.replace('traces: traces.jsonl', 'traces: good.jsonl'));
    const ran = await cli(dir, 'run', 'good-suite.yaml', '--db', 'corrupt.db', '--json', 'corrupt-run.json');
    expect(ran.code, ran.stderr).toBe(0);
    const { runId } = JSON.parse(readFileSync(join(dir, 'corrupt-run.json'), 'utf8')) as { runId: string };
    // Damaged outside shadowgate: the row of t2 holds text that is not JSON.
    const db = new Database(join(dir, 'corrupt.db'));
    try {
      expect(db.prepare("UPDATE results SET result_json = '{bad' WHERE run_id = ? AND trace_id = 't2'").run(runId).changes).toBe(1);
    } finally {
      db.close();
    }
    for (const argv of [['show', runId], ['show', runId, 't2'], ['drift']]) {
      const { code, stderr } = await cli(dir, ...argv, '--db', 'corrupt.db');
      expect(code, `${argv.join(' ')}: ${stderr}`).toBe(2);
      expect(stderr).toMatch(/^error: \S*corrupt\.db: /);
      expect(stderr).toContain(`corrupt.db: the stored result of trace t2 in run ${runId} is not valid JSON`);
      expect(stderr).not.toMatch(/internal error|SyntaxError|\n\s+at /);
    }
    // The other traces of the run read as before.
    expect((await cli(dir, 'show', runId, 't1', '--db', 'corrupt.db')).code).toBe(0);
  });
});
