import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { wilsonInterval } from '../../src/metrics/stats.js';
import { copyExample, expectNoError, expectSameRun, overrideCounts, pgClient, pgSchema, spawnCli, type RunJson, type SuggestResultJson } from './helpers.js';

// History reads against PostgreSQL: `--baseline ref:`, `phase`, `drift` over stored runs and the
// review queue. Each flow runs twice through the built CLI, every command a process of its own (as
// on CI runners that share nothing but the store): once into a PostgreSQL schema of the test's own,
// once into a SQLite file. Both must give the same figures, and those figures are checked against
// what this file derives from the runs' results and the verdicts recorded.

type Store = { tag: 'pg' | 'sqlite'; db: string };
type Rate = { rate: number | null; n: number; successes: number; ci95: [number, number] | null };
type Verdict = { itemId: number; verdict: 'accepted' | 'edited' | 'rejected'; reviewer: string; at: string; final?: unknown; reason?: string };
type Item = { id: number; runId: string; traceId: string; verdicts: Verdict[] };
type Paired = { baselineRunId: string; regressions: string[]; fixes: string[]; pairs: number };
type Suggest = { reviewed: number; simulated: number; accepted: number; edited: number; rejected: number; overrideRate: Rate };
type PhaseStep = { from: string; evidence: (Rate & { runId: string; fromQueue: number | null }) | null; status: string };
type PhaseJson = { db: string; suites: { runs: number; usageRunId: string | null; steps: PhaseStep[] }[] };
type DriftWindow = { start: string; end: string; figures: { traces: number; agreement: Rate; overrideRate: Rate; p95LatencyMs: number | null }; comparison: Record<string, unknown> | null };
type DriftJson = { source: { kind: string; runs: number }; window: string; generatedAt: string; verdict: string; checks: { name: string; status: string }[]; windows: DriftWindow[] };

let dir: string;
let cleanup: () => void;

/** The refund-triage suite over one week of the bundled traces (152), in a phase, with a candidate. */
function weekSuite(options: { name?: string; phase?: string; agent?: string; traces?: string; gate?: string } = {}): string {
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8')
    .replace('name: refund-triage', `name: ${options.name ?? 'refund-triage'}`)
    .replace('phase: shadow', `phase: ${options.phase ?? 'shadow'}`)
    .replace('traces: ["../traces/refund-triage/*.jsonl"]', `traces: ["${options.traces ?? '../traces/refund-triage/2026-w44.jsonl'}"]`)
    .replace('agents/policy-v1.mjs', `agents/${options.agent ?? 'policy-v1.mjs'}`);
  return options.gate ? suite.replace('  errorRate: { max: 0.02 }', `  errorRate: { max: 0.02 }\n${options.gate}`) : suite;
}

beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  const suites: Record<string, string> = {
    'week.yaml': weekSuite(),
    // The same suite (a baseline is a run of the same suite) with the regressed candidate, gated on regressions.
    'week-regression.yaml': weekSuite({ agent: 'regression-v2.mjs', gate: '  regressions: { max: 0 }' }),
    'week-suggest.yaml': weekSuite({ phase: 'suggest' }),
    // The reviewed items of the queue, exported as traces (out/reviewed.jsonl), in the suggest phase.
    'reviewed.yaml': weekSuite({ name: 'refund-triage-reviewed', phase: 'suggest', traces: '../out/reviewed.jsonl' }),
  };
  for (const [file, text] of Object.entries(suites)) writeFileSync(join(dir, 'suites', file), text);
});
afterAll(() => cleanup());

/** Each test's PostgreSQL schema, dropped after it. */
let pgDb: { url: string; drop: () => Promise<void> } | undefined;
afterEach(async () => {
  await pgDb?.drop();
  pgDb = undefined;
});
/** The two stores a test writes the same history into: a fresh PostgreSQL schema, then a fresh SQLite file. */
async function stores(name: string): Promise<Store[]> {
  pgDb = await pgSchema();
  return [
    { tag: 'pg', db: pgDb.url },
    { tag: 'sqlite', db: `db/${name}.db` },
  ];
}

/** Runs the CLI in `cwd` as a process of its own and waits for it to exit; `input` is its stdin. */
const sg = (cwd: string, args: string[], input?: string) => spawnCli(cwd, args, { input }).done;
const readJson = <T = RunJson>(cwd: string, file: string) => JSON.parse(readFileSync(join(cwd, file), 'utf8')) as T;

/** Every occurrence of each key of `names` in `text` replaced by its value: run ids and times that are each store's own. */
function renamed(text: string, names: Record<string, string>): string {
  return Object.entries(names).reduce((t, [from, to]) => t.split(from).join(to), text);
}

/** The figures of a drift report that do not depend on when and where it ran: no latency, no window bounds, no store. */
function comparableDrift({ generatedAt: _g, source: _s, window: _w, windows, ...rest }: DriftJson) {
  return {
    ...rest,
    windows: windows.map(({ figures, comparison }) => ({ figures: { ...figures, p95LatencyMs: undefined }, comparison: comparison && { ...comparison, p95LatencyRatio: undefined } })),
  };
}

/** The override rate the review queue's verdicts make, as DESIGN defines it: (edited + rejected) / reviewed, each item by its latest verdict. */
function overrideOf(items: readonly Item[]): { n: number; successes: number } {
  const latest = items.flatMap((i) => i.verdicts.slice(-1));
  return { n: latest.length, successes: latest.filter((v) => v.verdict !== 'accepted').length };
}

describe('history in PostgreSQL, read as from SQLite', () => {
  it('--baseline ref:main finds the branch\'s run in PostgreSQL, not a later run of another branch, and pairs the traces as on SQLite', async () => {
    // A repository of its own, so that runs are stored with the branch they were made on.
    const repo = copyExample();
    try {
      for (const file of ['week.yaml', 'week-regression.yaml']) writeFileSync(join(repo.dir, 'suites', file), readFileSync(join(dir, 'suites', file)));
      const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.dir, stdio: 'ignore' });
      git('init', '-q', '-b', 'main');
      git('add', '-A');
      git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-qm', 'example');
      const targets = await stores('ref');
      for (const { tag, db } of targets) expectNoError(await sg(repo.dir, ['run', 'suites/week.yaml', '--db', db, '--json', `out/${tag}-main.json`]));
      git('checkout', '-q', '-b', 'feature');

      const outcomes: Record<string, { status: number | null; run: RunJson }> = {};
      for (const { tag, db } of targets) {
        // On the feature branch: a run of the suite that is now its latest in the store, but not on main.
        expectNoError(await sg(repo.dir, ['run', 'suites/week-regression.yaml', '--db', db, '--json', `out/${tag}-later.json`]));
        // One trace at a time: the flips are listed in the order the candidate's results arrive.
        const gated = await sg(repo.dir, ['run', 'suites/week-regression.yaml', '--db', db, '--baseline', 'ref:main', '--concurrency', '1', '--json', `out/${tag}-cand.json`]);
        expectNoError(gated);
        const [main, later, run] = ['main', 'later', 'cand'].map((f) => readJson(repo.dir, `out/${tag}-${f}.json`)) as [RunJson, RunJson, RunJson];
        const paired = run.metrics.paired as Paired;
        // The run of main, which is not the latest run of the suite in the store.
        expect(later.startedAt > main.startedAt).toBe(true);
        expect(paired.baselineRunId).toBe(main.runId);
        // The flips, computed here from the baseline's and the candidate's results files.
        const before = new Map(main.results.map((r) => [r.traceId, r.agree]));
        const regressions = run.results.filter((r) => before.get(r.traceId) === true && r.agree === false).map((r) => r.traceId);
        const fixes = run.results.filter((r) => before.get(r.traceId) === false && r.agree === true).map((r) => r.traceId);
        expect(paired).toMatchObject({ regressions, fixes, pairs: main.results.length });
        expect(regressions.length).toBeGreaterThan(0);
        expect(run.gate.checks.find((c) => c.name === 'regressions')).toMatchObject({ status: 'fail', value: regressions.length });
        expect(gated.stdout).toContain(`${main.results.length} traces paired: ${regressions.length} regression(s)`);
        outcomes[tag] = { status: gated.status, run };
      }
      // Either store: the same pairing, figures, checks, verdict and exit (the baseline's run id is each store's own).
      const { pg, sqlite } = outcomes as Record<Store['tag'], { status: number | null; run: RunJson }>;
      expect(pg.status).toBe(sqlite.status);
      const withoutBaselineId = (run: RunJson): RunJson => ({ ...run, metrics: { ...run.metrics, paired: { ...(run.metrics.paired as Paired), baselineRunId: undefined } } });
      expectSameRun(withoutBaselineId(pg.run), withoutBaselineId(sqlite.run));
    } finally {
      repo.cleanup();
    }
  }, 180_000);

  it('phase over runs stored in PostgreSQL reports what it reports over the same runs in SQLite', async () => {
    const reports: Record<string, { json: string; stdout: string }> = {};
    for (const { tag, db } of await stores('phase')) {
      for (const [suite, phase] of [['week', 'shadow'], ['week-suggest', 'suggest']]) {
        expectNoError(await sg(dir, ['run', `suites/${suite}.yaml`, '--db', db, '--json', `out/phase-${tag}-${phase}.json`]));
      }
      const [shadow, suggest] = ['shadow', 'suggest'].map((p) => readJson(dir, `out/phase-${tag}-${p}.json`)) as [RunJson, RunJson];
      const assessed = await sg(dir, ['phase', 'suites/week.yaml', '--db', db, '--json', `out/phase-${tag}.json`]);
      expect(assessed.status, assessed.stderr).toBe(0);
      const report = readJson<PhaseJson>(dir, `out/phase-${tag}.json`);
      // The evidence is the two runs just stored, with the figures of their results files.
      const [s] = report.suites;
      expect(s).toMatchObject({ runs: 2, usageRunId: suggest.runId });
      const agreement = shadow.metrics.agreement as Rate;
      expect(s!.steps[0]!.evidence).toMatchObject({ runId: shadow.runId, n: agreement.n, rate: agreement.rate, ci95: agreement.ci95 });
      const override = (suggest.metrics.phase as { suggest: Suggest }).suggest.overrideRate;
      expect(s!.steps[1]!.evidence).toMatchObject({ runId: suggest.runId, n: override.n, rate: override.rate, ci95: override.ci95 });
      expect(assessed.stdout).toContain(`(run ${shadow.runId})`);
      // Run ids and start times are each store's own: named after the run they stand for.
      const names = { [shadow.runId]: '<shadow run>', [suggest.runId]: '<suggest run>', [shadow.startedAt]: '<shadow start>', [suggest.startedAt]: '<suggest start>' };
      reports[tag] = { json: renamed(JSON.stringify({ ...report, db: undefined }), names), stdout: renamed(assessed.stdout, names) };
    }
    expect(reports.pg).toEqual(reports.sqlite);
  }, 120_000);

  it('drift over runs stored in PostgreSQL gives the windows, figures and checks of the same runs in SQLite', async () => {
    writeFileSync(join(dir, 'drift.yaml'), 'thresholds:\n  maxJsd: 0.001\n  agreement: { maxDrop: 0.01 }\n  toolRatio: { max: 1.1, minCalls: 1 }\n');
    const reports: Record<string, ReturnType<typeof comparableDrift>> = {};
    for (const { tag, db } of await stores('drift')) {
      for (const [suite, run] of [['week', 'first'], ['week-regression', 'second']]) {
        await sg(dir, ['run', `suites/${suite}.yaml`, '--db', db, '--json', `out/drift-${tag}-${run}.json`]);
      }
      const runs = ['first', 'second'].map((r) => readJson(dir, `out/drift-${tag}-${r}.json`));
      // Two windows, each holding one run: the last ends at the second run's start, and each is
      // three quarters of the time between the runs' starts long (the first run, one gap earlier, is in the first).
      const gap = Date.parse(runs[1]!.startedAt) - Date.parse(runs[0]!.startedAt);
      const hours = ((gap * 0.75) / 3_600_000).toFixed(12);
      const drift = await sg(dir, ['drift', '--db', db, '--workflow', 'refund-triage', '--window', `${hours}h`, '--windows', '2', '--until', runs[1]!.startedAt, '--config', 'drift.yaml', '--json', `out/drift-${tag}.json`]);
      expect(drift.stderr).not.toMatch(/error/);
      expect(drift.stdout).toContain('2 stored run(s)');
      const report = readJson<DriftJson>(dir, `out/drift-${tag}.json`);
      expect(report.source).toMatchObject({ kind: 'runs', runs: 2 });
      // Each window holds its run's results, with their agreement.
      report.windows.forEach((w, i) => {
        const results = runs[i]!.results;
        const judged = results.filter((r) => r.agree !== null);
        expect(w.figures.traces).toBe(results.length);
        expect(w.figures.agreement).toMatchObject({ n: judged.length, successes: judged.filter((r) => r.agree).length });
      });
      // The regressed candidate moved the tool-call mix and lost agreement: the thresholds say so (exit 1).
      expect(report.verdict).toBe('fail');
      expect(drift.status).toBe(1);
      expect(report.checks.filter((c) => c.status === 'fail').length).toBeGreaterThan(0);
      reports[tag] = comparableDrift(report);
    }
    expect(reports.pg).toEqual(reports.sqlite);
  }, 120_000);

  it('the review queue in PostgreSQL: two reviewers at once never get the same item, verdicts are appended, and the override rate counts each item\'s latest verdict (else the run\'s own), the same in drift and in phase over the run, as on SQLite', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const { tag, db } of await stores('queue')) {
      expectNoError(await sg(dir, ['run', 'suites/week-suggest.yaml', '--db', db, '--json', `out/queue-${tag}.json`]));
      const run = readJson(dir, `out/queue-${tag}.json`);
      const exported = async (name: string): Promise<Item[]> => {
        const written = await sg(dir, ['review', 'export', '--out', `out/queue-${tag}-${name}.jsonl`, '--db', db]);
        expect(written.status, written.stderr).toBe(0);
        return readFileSync(join(dir, `out/queue-${tag}-${name}.jsonl`), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Item);
      };
      /** The override rate of drift over the stored runs of the suite (one window, holding the run). */
      const driftOverride = async (name: string): Promise<Rate> => {
        const drift = await sg(dir, ['drift', '--db', db, '--workflow', 'refund-triage', '--window', '1d', '--windows', '1', '--json', `out/queue-${tag}-${name}-drift.json`]);
        expect(drift.status, drift.stderr).toBe(0);
        const [window] = readJson<DriftJson>(dir, `out/queue-${tag}-${name}-drift.json`).windows;
        return window!.figures.overrideRate;
      };

      // Two reviewers work the queue at the same time, three verdicts each.
      const [ana, ben] = await Promise.all([
        sg(dir, ['review', '--reviewer', 'ana', '--db', db], 'a\ne\n{"action":"deny"}\nr\nnot our policy\nq\n'),
        sg(dir, ['review', '--reviewer', 'ben', '--db', db], 'a\na\nr\n\nq\n'),
      ]);
      for (const r of [ana, ben]) {
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('3 verdict(s) given');
      }
      const first = await exported('first');
      // Every suggestion of the run was queued; never was one item handed to both: six items, one verdict each.
      expect(first.map((i) => i.traceId).sort()).toEqual(run.results.map((r) => r.traceId).sort());
      const reviewed = first.filter((i) => i.verdicts.length > 0);
      expect(reviewed).toHaveLength(6);
      expect(reviewed.every((i) => i.verdicts.length === 1)).toBe(true);
      expect(reviewed.filter((i) => i.verdicts[0]!.reviewer === 'ana')).toHaveLength(3);
      // drift counts each result's verdict as phase does: the queue's latest where there is one, else the run's own.
      const comparator = parse(readFileSync(join(dir, 'suites/week-suggest.yaml'), 'utf8')).compare.decision;
      const results = run.results as unknown as SuggestResultJson[];
      const queueOf = (items: readonly Item[]) => new Map(items.flatMap((i) => i.verdicts.slice(-1).map((v) => [i.traceId, v.verdict] as const)));
      const before = await driftOverride('before');
      expect(before).toMatchObject({ n: overrideCounts(results, comparator, queueOf(first)).n, successes: overrideCounts(results, comparator, queueOf(first)).successes });

      // A second look at an accepted item rejects it: appended to its verdicts, nothing changed before it.
      const accepted = reviewed.find((i) => i.verdicts[0]!.verdict === 'accepted')!;
      writeFileSync(join(dir, 'out/second-look.jsonl'), `${JSON.stringify({ itemId: accepted.id, verdict: 'rejected', reason: 'second look', reviewer: 'cy' })}\n`);
      const imported = await sg(dir, ['review', 'import', 'out/second-look.jsonl', '--db', db]);
      expect(imported.stdout).toContain('1 verdict(s) imported');
      const second = await exported('second');
      expect(second.find((i) => i.id === accepted.id)!.verdicts).toEqual([accepted.verdicts[0], expect.objectContaining({ itemId: accepted.id, verdict: 'rejected', reason: 'second look', reviewer: 'cy' })]);
      expect(second.map((i) => (i.id === accepted.id ? { ...i, verdicts: i.verdicts.slice(0, 1) } : i))).toEqual(first);
      if (tag === 'pg') {
        const rows = await pgClient((c) => c.query('SELECT item_id AS "itemId", verdict, reviewer FROM review_verdicts ORDER BY id'), db);
        expect(rows.rows).toHaveLength(reviewed.length + 1);
        expect(rows.rows.filter((r) => r.itemId === accepted.id).map((r) => r.verdict)).toEqual(['accepted', 'rejected']);
      }

      // The override rate follows the latest verdicts: one accepted item now rejected is one more overridden of as many reviewed.
      const after = await driftOverride('after');
      expect(after.n).toBe(before.n);
      expect(after.successes).toBe(before.successes + 1);
      expect(after.rate! - before.rate!).toBeCloseTo(1 / before.n, 12);

      // phase over the run itself counts the queue: each reviewed item's latest verdict in place of the run's own for its result.
      const own = (run.metrics.phase as { suggest: Suggest }).suggest.overrideRate;
      expect(overrideCounts(results, comparator)).toMatchObject({ n: own.n, successes: own.successes });
      const counted = overrideCounts(results, comparator, queueOf(second));
      expect(counted.fromQueue).toBe(reviewed.length);
      expect(after).toMatchObject({ n: counted.n, successes: counted.successes });
      const ofRun = await sg(dir, ['phase', 'suites/week-suggest.yaml', '--db', db, '--json', `out/queue-${tag}-phase-run.json`]);
      expect(ofRun.status, ofRun.stderr).toBe(0);
      const [queued] = readJson<PhaseJson>(dir, `out/queue-${tag}-phase-run.json`).suites[0]!.steps.filter((s) => s.from === 'suggest');
      expect(queued!.evidence).toMatchObject({ runId: run.runId, n: counted.n, rate: counted.successes / counted.n, ci95: wilsonInterval(counted.successes, counted.n), fromQueue: counted.fromQueue });
      // drift's override rate of the run is phase's.
      expect(after).toEqual({ rate: queued!.evidence!.rate, n: queued!.evidence!.n, successes: counted.successes, ci95: queued!.evidence!.ci95 });
      expect(ofRun.stdout).toContain(`over ${counted.n} traces, ${counted.fromQueue} from the review queue (run ${run.runId})`);

      // A later run over the reviewed items, exported as traces: its override rate is their latest verdicts', and phase reads it.
      // A rejection without a final decision is not exported (it says the suggestion was wrong, not what was right).
      const asTraces = second.filter((i) => i.verdicts.slice(-1).some((v) => v.verdict !== 'rejected' || v.final !== undefined));
      expect(asTraces.length).toBeGreaterThan(0);
      expect((await sg(dir, ['review', 'export', '--as-traces', 'out/reviewed.jsonl', '--db', db])).stdout).toContain(`${asTraces.length} trace(s) written`);
      expectNoError(await sg(dir, ['run', 'suites/reviewed.yaml', '--db', db, '--json', `out/queue-${tag}-later.json`]));
      const later = readJson(dir, `out/queue-${tag}-later.json`);
      const latest = asTraces.flatMap((i) => i.verdicts.slice(-1).map((v) => v.verdict));
      const count = (verdict: Verdict['verdict']) => latest.filter((v) => v === verdict).length;
      const suggest = (later.metrics.phase as { suggest: Suggest }).suggest;
      expect(suggest).toMatchObject({ reviewed: latest.length, simulated: 0, accepted: count('accepted'), edited: count('edited'), rejected: count('rejected') });
      expect(later.metrics.overrideRate).toMatchObject(overrideOf(asTraces));
      const assessed = await sg(dir, ['phase', 'suites/reviewed.yaml', '--db', db, '--json', `out/queue-${tag}-phase.json`]);
      expect(assessed.status, assessed.stderr).toBe(0);
      const [step] = readJson<PhaseJson>(dir, `out/queue-${tag}-phase.json`).suites[0]!.steps.filter((s) => s.from === 'suggest');
      expect(step!.evidence).toMatchObject({ runId: later.runId, n: suggest.overrideRate.n, rate: suggest.overrideRate.rate });

      // Which items each reviewer got, and so which items become traces, is the race's: so is the override rate of the
      // run with the queue counted (a queue verdict replaces the run's own on whichever item it fell), checked above
      // against each store's own verdicts. Compared across stores: what the race leaves alone.
      outcomes[tag] = {
        counted: { n: after.n, fromQueue: queued!.evidence!.fromQueue, secondLook: after.successes - before.successes },
        later: later.metrics.overrideRate,
        evidence: { ...step!.evidence, runId: undefined, startedAt: undefined },
        status: step!.status,
      };
    }
    expect(outcomes.pg).toEqual(outcomes.sqlite);
  }, 180_000);

  it('two terminals reviewing under the same (default) name at once never get the same item: the claims are each session\'s', async () => {
    for (const { tag, db } of await stores('same-name')) {
      expectNoError(await sg(dir, ['run', 'suites/week-suggest.yaml', '--db', db]));
      // No --reviewer: both take the default name from the same USER, and accept twenty items each.
      const terminal = () => spawnCli(dir, ['review', '--db', db], { input: 'a\n'.repeat(20), env: { USER: 'pat' } }).done;
      const both = await Promise.all([terminal(), terminal()]);
      for (const r of both) {
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('20 verdict(s) given');
      }
      const written = await sg(dir, ['review', 'export', '--out', `out/same-name-${tag}.jsonl`, '--db', db]);
      expect(written.status, written.stderr).toBe(0);
      const items = readFileSync(join(dir, `out/same-name-${tag}.jsonl`), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Item);
      const reviewed = items.filter((i) => i.verdicts.length > 0);
      expect(reviewed.flatMap((i) => i.verdicts.map((v) => v.reviewer))).toEqual(Array(40).fill('pat'));
      // Forty verdicts on forty items: none reviewed twice.
      expect(reviewed.map((i) => i.verdicts.length)).toEqual(Array(40).fill(1));
    }
  }, 120_000);
});
