import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Step, Trace } from '../../src/trace/schema.js';
import { cli, copyExample, ROOT } from './helpers.js';

interface ResultsJson {
  counts: { total: number };
  metrics: { agreement: { n: number; successes: number } };
  results: { traceId: string; status: string; error: { code: string; message: string } | null; steps: Step[] }[];
}

/** What a step is, without the run's own annotations (mock source, cost) or times. */
const essence = (s: Step) =>
  s.type === 'llm'
    ? { type: s.type, model: s.model, output: s.output, usage: s.usage }
    : { type: s.type, name: s.name, args: s.args, result: s.result, error: s.error };

const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Trace);

describe('OpenTelemetry round trip', () => {
  let example: ReturnType<typeof copyExample>;
  let run: ResultsJson;
  let imported: Trace[];
  let importOut: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    example = copyExample();
    const runOut = await cli(example.dir, 'run', 'suites/refund-triage-replay.yaml', '--json', 'out/run.json', '--otel-file', 'out/spans.jsonl', '--db', 'out/sg.db');
    expect(runOut.code, runOut.stderr).toBe(0);
    run = JSON.parse(readFileSync(join(example.dir, 'out/run.json'), 'utf8')) as ResultsJson;
    mkdirSync(join(example.dir, 'traces/imported'));
    importOut = await cli(example.dir, 'import', 'otel', 'out/spans.jsonl', '--out', 'traces/imported/refund-triage.jsonl');
    imported = readJsonl(join(example.dir, 'traces/imported/refund-triage.jsonl'));
  });
  afterAll(() => example.cleanup());

  it('exports a run and imports it back: one trace per result, the same steps in the same order', () => {
    expect(importOut).toEqual({ code: 0, stdout: `${run.results.length} trace(s) written to traces/imported/refund-triage.jsonl\n`, stderr: '' });
    expect(run.results.length).toBe(run.counts.total);
    const byId = new Map(imported.map((t) => [t.id, t]));
    expect([...byId.keys()].sort()).toEqual(run.results.map((r) => r.traceId).sort());
    for (const result of run.results) {
      expect(byId.get(result.traceId)!.steps.map(essence), result.traceId).toEqual(result.steps.map(essence));
    }
    const source = readJsonl(join(ROOT, 'traces/refund-triage/2026-w44.jsonl'))[0]!;
    const back = byId.get(source.id)!;
    expect({ workflow: back.workflow, input: back.input, caseId: back.caseId }).toEqual({ workflow: source.workflow, input: source.input, caseId: source.caseId });
  });

  it('the imported traces replay like the originals', async () => {
    const suite = readFileSync(join(example.dir, 'suites/refund-triage-replay.yaml'), 'utf8')
      .replace('name: refund-triage-replay', 'name: imported-replay')
      .replace('../traces/refund-triage/*.jsonl', '../traces/imported/*.jsonl');
    writeFileSync(join(example.dir, 'suites/imported-replay.yaml'), suite);
    const again = await cli(example.dir, 'run', 'suites/imported-replay.yaml', '--json', 'out/again.json', '--db', 'out/sg.db');
    expect(again.code, again.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(example.dir, 'out/again.json'), 'utf8')) as ResultsJson;
    expect(results.metrics.agreement).toMatchObject({ n: run.metrics.agreement.n, successes: run.metrics.agreement.successes });
  });

  it('a trace imported as not replayable ends as an error that gives the reason, and the others still run', async () => {
    const dir = example.dir;
    copyFileSync(join(ROOT, 'fixtures/otel/no-tool-args.json'), join(dir, 'out/no-tool-args.json'));
    const imp = await cli(dir, 'import', 'otel', 'out/no-tool-args.json', '--out', 'traces/imported/not-replayable.jsonl', '--workflow', 'refund-triage');
    expect(imp.stdout).toBe('1 trace(s) written to traces/imported/not-replayable.jsonl, 1 marked not replayable\n');
    const out = await cli(dir, 'run', 'suites/imported-replay.yaml', '--json', 'out/mixed.json', '--db', 'out/sg.db');
    // A trace that cannot be replayed is missing evidence: the gate's coverage check names it, and the verdict is not a pass.
    expect(out.code).toBe(1);
    const results = JSON.parse(readFileSync(join(dir, 'out/mixed.json'), 'utf8')) as ResultsJson;
    const failed = results.results.filter((r) => r.status === 'error');
    expect(failed.map((r) => ({ traceId: r.traceId, error: r.error }))).toEqual([
      {
        traceId: 'a3ce929d0e0e47364bf92f3577b34da6',
        error: {
          code: 'TRACE_NOT_REPLAYABLE',
          message: 'trace a3ce929d0e0e47364bf92f3577b34da6 is marked not replayable: step 0 (chat gpt-4.1) has no recorded output; step 1 (get_invoice) has no recorded arguments; step 1 (get_invoice) has no recorded result; step 2 (chat gpt-4.1) has no recorded output',
        },
      },
    ]);
    expect(results.results.length).toBe(run.results.length + 1);
    const coverage = (results as unknown as { gate: { checks: { name: string; status: string; reason: string }[] } }).gate.checks.find((c) => c.name === 'coverage');
    expect(coverage?.status).toBe('inconclusive');
    expect(coverage?.reason).toContain('1 trace(s) without an outcome because of the infrastructure (a3ce929d0e0e47364bf92f3577b34da6)');
  });

  it('an --otel-endpoint that is not a URL is a usage error', async () => {
    const out = await cli(example.dir, 'run', 'suites/refund-triage-replay.yaml', '--otel-endpoint', 'not a url', '--db', 'out/sg.db');
    expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 2, stderr: 'error: --otel-endpoint not a url: not a URL\nhint: for example --otel-endpoint http://localhost:4318/v1/traces\n' });
  });

  it('a run refused before it starts leaves the span file, and the folders it would have written to, as they were', async () => {
    const before = readFileSync(join(example.dir, 'out/spans.jsonl'), 'utf8');
    expect(before.length).toBeGreaterThan(0);
    const refused = await cli(example.dir, 'run', 'suites/refund-triage-replay.yaml', '--resume', 'no-such-run', '--otel-file', 'out/spans.jsonl', '--report', 'out/refused/report', '--json', 'out/refused-json/run.json', '--db', 'out/sg.db');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('no-such-run');
    expect(readFileSync(join(example.dir, 'out/spans.jsonl'), 'utf8')).toBe(before);
    expect(existsSync(join(example.dir, 'out/refused'))).toBe(false);
    expect(existsSync(join(example.dir, 'out/refused-json'))).toBe(false);
    // Nor is a folder made for a span file that is not there yet.
    const fresh = await cli(example.dir, 'run', 'suites/refund-triage-replay.yaml', '--resume', 'no-such-run', '--otel-file', 'out/new-spans/spans.jsonl', '--db', 'out/sg.db');
    expect(fresh.code).toBe(2);
    expect(existsSync(join(example.dir, 'out/new-spans'))).toBe(false);
  });

  it('refuses a span file under a file before the run, as any output it could not write', async () => {
    writeFileSync(join(example.dir, 'out/plain'), 'x');
    const out = await cli(example.dir, 'run', 'suites/refund-triage-replay.yaml', '--otel-file', 'out/plain/spans.jsonl', '--db', 'out/sg.db');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('is not a folder');
  });
});
