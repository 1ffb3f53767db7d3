import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../src/metrics/stats.js';
import { loadToolCatalog } from '../../src/suite/load.js';
import { parseTraceLine } from '../../src/trace/reader.js';
import type { Trace } from '../../src/trace/schema.js';
import { cli, copyExample, ROOT } from './helpers.js';

// Real recorded runs of others (tau-bench, MIT): kept beside the project, never copied into it.
const CORPUS = resolve(ROOT, '../shared/corpora/tau-bench');
const FILE = join(CORPUS, 'historical_trajectories', 'gpt-4o-airline.json');
const present = existsSync(FILE);
if (!present) console.warn(`tau-bench e2e skipped: ${FILE} is absent (the shared corpora are not checked out beside the project)`);

/** The corpus README's effect classes: writes, and the escalation, which we count among the writes. */
const WRITES = new Set([
  'book_reservation',
  'cancel_reservation',
  'update_reservation_baggages',
  'update_reservation_flights',
  'update_reservation_passengers',
  'send_certificate',
  'transfer_to_human_agents',
]);

interface RawRun {
  task_id: number;
  trial: number;
  reward: number;
  info: { task: { actions: { name: string; kwargs: Record<string, unknown> }[] }; reward_info: unknown };
  traj: { role: string; content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
}

/** Keys sorted at every depth; numbers print as JSON prints them, so 100.0 and 100 are one value. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortedKeys(v)]));
  return value;
}
/** `ignore`: top-level argument names left out, as a suite's `compare.effects.ignoreArgs` does. */
const effectKey = (name: string, args: Record<string, unknown>, ignore: readonly string[]) =>
  `${name}:${JSON.stringify(sortedKeys(Object.fromEntries(Object.entries(args).filter(([k]) => !ignore.includes(k)))))}`;

/**
 * DESIGN's effects agreement, computed here from the raw file: a run agrees when the
 * multiset of its effects (calls of a write tool that did not fail, i.e. whose tool
 * message does not start with `Error`, keyed by name and canonical arguments) equals
 * the multiset of the task's ground-truth write actions.
 */
function effectsAgreementOf(runs: readonly RawRun[], ignore: readonly string[] = []): { agreeing: number; n: number; cases: number; share: number; passAll: number } {
  let agreeing = 0;
  // The case (task) is the statistical unit: each weighs the share of its trials that agree.
  const perTask = new Map<number, { trials: number; agreeing: number }>();
  for (const run of runs) {
    const task = perTask.get(run.task_id) ?? { trials: 0, agreeing: 0 };
    perTask.set(run.task_id, task);
    task.trials++;
    // The agent makes one call a message and its answer comes next. Call ids are not unique
    // in these files (an id comes back later for another call), so answers are matched by place.
    const made = run.traj
      .flatMap((m, i) => {
        const call = run.traj[i - 1]?.tool_calls?.find((c) => c.id === m.tool_call_id);
        if (m.role === 'tool' && !call) throw new Error(`task ${run.task_id} trial ${run.trial}: message ${i} answers no call just before it`);
        return m.role === 'tool' && !(m.content ?? '').startsWith('Error') ? [call!.function] : [];
      })
      .filter((f) => WRITES.has(f.name))
      .map((f) => effectKey(f.name, JSON.parse(f.arguments) as Record<string, unknown>, ignore))
      .sort();
    const truth = run.info.task.actions.filter((a) => WRITES.has(a.name)).map((a) => effectKey(a.name, a.kwargs, ignore)).sort();
    if (made.length === truth.length && made.every((k, i) => k === truth[i])) {
      agreeing++;
      task.agreeing++;
    }
  }
  const tasks = [...perTask.values()];
  return {
    agreeing,
    n: runs.length,
    cases: tasks.length,
    share: tasks.reduce((sum, t) => sum + t.agreeing / t.trials, 0),
    // tau-bench's pass^k at k = the trials per task: the share of tasks all of whose trials agree
    passAll: tasks.filter((t) => t.agreeing === t.trials).length / tasks.length,
  };
}

describe.skipIf(!present)('import tau-bench: gpt-4o on the airline domain (needs ../shared/corpora/tau-bench)', () => {
  let dir: string;
  let cleanup: () => void;
  let raw: RawRun[];
  let traces: Trace[];

  beforeAll(async () => {
    ({ dir, cleanup } = copyExample());
    raw = JSON.parse(readFileSync(FILE, 'utf8')) as RawRun[];
    mkdirSync(join(dir, 'traces', 'tau-bench'));
    const imported = await cli(dir, 'import', 'tau-bench', FILE, '--out', 'traces/tau-bench/gpt-4o-airline.jsonl', '--strict');
    expect(imported).toEqual({ code: 0, stdout: '200 trace(s) written to traces/tau-bench/gpt-4o-airline.jsonl\n', stderr: '' });
    traces = readFileSync(join(dir, 'traces', 'tau-bench', 'gpt-4o-airline.jsonl'), 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        const parsed = parseTraceLine(line, 'gpt-4o-airline.jsonl', i + 1);
        if (parsed && !parsed.ok) throw new Error(JSON.stringify(parsed.issues));
        return parsed ? [parsed.trace] : [];
      });
  });
  afterAll(() => cleanup?.());

  it('makes 200 traces: 50 cases × 4 trials, model and workflow from the file name', () => {
    expect(traces).toHaveLength(200);
    const trials = new Map<string, number[]>();
    for (const t of traces) trials.set(t.caseId!, [...(trials.get(t.caseId!) ?? []), t.trial!].sort());
    expect(trials.size).toBe(50);
    expect([...trials.values()].every((list) => list.join() === '0,1,2,3')).toBe(true);
    expect(new Set(traces.map((t) => `${t.workflow} ${t.agent?.model}`))).toEqual(new Set(['tau-bench-airline gpt-4o']));
    expect(new Set(traces.map((t) => t.id)).size).toBe(200);
  });

  it('keeps the recorded rewards, the tool calls and the failed ones, as the raw file and the corpus README have them', () => {
    const successRate = raw.filter((r) => r.reward === 1).length / raw.length;
    const callsPerRun = raw.flatMap((r) => r.traj).flatMap((m) => m.tool_calls ?? []).length / raw.length;
    const successes = traces.filter((t) => t.metadata?.reward === 1).length;
    expect(successes / traces.length).toBe(successRate);
    const toolSteps = traces.flatMap((t) => t.steps.filter((s) => s.type === 'tool'));
    expect(toolSteps.length / traces.length).toBe(callsPerRun);
    // The README's figures were computed independently of this project; the file's own must round to them.
    const known = /success rate \(reward = 1\) ([\d.]+) over the (\d+) runs; ([\d.]+) tool calls per run/.exec(readFileSync(join(CORPUS, 'README.md'), 'utf8'));
    expect(known, 'the corpus README states its known figures').not.toBeNull();
    const [, readmeSuccess, readmeRuns, readmeCalls] = known!;
    expect([raw.length, successRate.toFixed(2), callsPerRun.toFixed(2)]).toEqual([Number(readmeRuns), readmeSuccess, readmeCalls]);
    const failedInFile = raw.flatMap((r) => r.traj).filter((m) => m.role === 'tool' && (m.content ?? '').startsWith('Error')).length;
    expect(toolSteps.filter((s) => s.error !== undefined)).toHaveLength(failedInFile);
    expect(failedInFile).toBeGreaterThan(0);
  });

  it('takes the ground-truth actions as the human actions, and ends a run cut off by the step limit as aborted', () => {
    const byId = new Map(traces.map((t) => [`${t.caseId} ${t.trial}`, t]));
    for (const run of raw) {
      const trace = byId.get(`task-${run.task_id} ${run.trial}`)!;
      expect(trace.human?.actions).toEqual(run.info.task.actions.map((a) => ({ name: a.name, args: a.kwargs })));
      expect(trace.outcome?.status === 'aborted').toBe(run.info.reward_info === null);
    }
    expect(traces.filter((t) => t.outcome?.status === 'aborted').length).toBe(raw.filter((r) => r.info.reward_info === null).length);
  });

  it('ships a catalog whose writes are the corpus README’s writes and escalation', async () => {
    const catalog = await loadToolCatalog(join(ROOT, 'fixtures', 'tau-bench-airline', 'tools.yaml'));
    expect(new Set(catalog.tools.filter((t) => t.effect !== 'read').map((t) => t.name))).toEqual(WRITES);
    expect(catalog.tools).toHaveLength(14);
  });

  it('runs the recorded agent against the ground truth: effects agreement as computed from the raw file', async () => {
    mkdirSync(join(dir, 'suites'), { recursive: true });
    writeFileSync(
      join(dir, 'suites', 'tau-bench-airline.yaml'),
      [
        'name: tau-bench-airline-gpt-4o',
        'phase: shadow',
        'traces: ["../traces/tau-bench/*.jsonl"]',
        'tools: ../fixtures/tau-bench-airline/tools.yaml',
        'reference: human',
        'candidate:',
        '  kind: recorded',
        '  traces: ["../traces/tau-bench/*.jsonl"]',
        'gate:',
        '  effectsAgreement: { min: 0.1, bound: lower }',
      ].join('\n'),
    );
    const run = await cli(dir, 'run', 'suites/tau-bench-airline.yaml', '--json', 'out.json', '--db', join(dir, 'db.sqlite'));
    const results = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as {
      metrics: { effectsAgreement: { rate: number | null; n: number; successes: number; ci95: [number, number] }; agreement: { n: number }; passK: { k: number; value: number; traces: number; over: string } };
    };
    const expected = effectsAgreementOf(raw);
    expect(expected.agreeing).toBeGreaterThan(0);
    // Over the 50 tasks, not the 200 runs: the 4 trials of a task are not independent evidence.
    expect(expected.cases).toBe(50);
    expect(results.metrics.effectsAgreement).toMatchObject({ n: expected.cases, successes: expect.closeTo(expected.share, 12), rate: expect.closeTo(expected.agreeing / expected.n, 12) });
    expect(results.metrics.effectsAgreement.ci95).toEqual(wilsonInterval(expected.share, expected.cases));
    expect(results.metrics.passK).toEqual({ k: 4, value: expect.closeTo(expected.passAll, 12), traces: 50, over: 'effects' });
    // docs/importers.md (the tau-bench section) quotes these figures.
    const readme = readFileSync(join(ROOT, 'docs', 'importers.md'), 'utf8');
    const quoted = (m: { rate: number | null; ci95: [number, number] }) => `${m.rate!.toFixed(2)}, 95% CI [${m.ci95.map((x) => x.toFixed(3)).join(', ')}]`;
    expect(readme).toContain(`effects agreement ${quoted(results.metrics.effectsAgreement)}`);
    // tau-bench records no decisions: agreement has nothing to compare, and the gate judges the effects.
    expect(results.metrics.agreement.n).toBe(0);
    // …and the summary says what is missing: a reference decision, not a reference (the actions are one)
    expect(run.stdout).toMatch(/\b200 no reference decision\b/);
    expect(run.code).toBe(0);

    // The transfer's free-text summary left out of the comparison (the suite in docs/importers.md): only the
    // runs in which both the agent and the ground truth transfer can change, and some do.
    writeFileSync(join(dir, 'suites', 'tau-bench-airline-summary.yaml'), `${readFileSync(join(dir, 'suites', 'tau-bench-airline.yaml'), 'utf8')}\ncompare:\n  effects: { ignoreArgs: [summary] }\n`);
    const lenient = await cli(dir, 'run', 'suites/tau-bench-airline-summary.yaml', '--json', 'summary.json', '--db', join(dir, 'db.sqlite'));
    expect(lenient.code).toBe(0);
    const ignoring = (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as typeof results).metrics.effectsAgreement;
    const expectedIgnoring = effectsAgreementOf(raw, ['summary']);
    expect(ignoring).toMatchObject({ n: expectedIgnoring.cases, successes: expect.closeTo(expectedIgnoring.share, 12) });
    expect(expectedIgnoring.agreeing).toBeGreaterThan(expected.agreeing);
    expect(readme).toContain(`effects agreement ${quoted(ignoring)}`);
    const lenientPassK = (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as typeof results).metrics.passK;
    expect(lenientPassK).toEqual({ k: 4, value: expect.closeTo(expectedIgnoring.passAll, 12), traces: 50, over: 'effects' });
    expect(readme).toContain(`pass^4 ${expectedIgnoring.passAll.toFixed(2)}`);
  });
});
