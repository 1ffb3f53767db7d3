import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_ID } from '../../src/run/run-suite.js';
import { cli, copyExample, expectNoError, expectSameRun, spawnCli, writeEvenOddTraces, type RunJson } from './helpers.js';

// Shards that write into one stored run (`run --run-id <id> --shard i/n`), finalized from the store
// (`finalize <id>`), must give the unsharded run's metrics, checks, verdict and results, in every
// phase and with a baseline; a shard of another candidate, a second live writer of one shard, and a
// finalize before every shard has finished are refused (exit 2). The bundled example's suite runs
// as separate processes into one SQLite file; the phase cases use the example's first 60 traces.
let dir: string;
let cleanup: () => void;

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as RunJson;

const PHASES = {
  shadow: 'gate:\n  agreement: { min: 0.85, bound: lower }\n  regressions: { max: 0 }\n',
  suggest: 'gate:\n  agreement: { min: 0.85, bound: lower }\n  overrideRate: { max: 0.2 }\n  regressions: { max: 0 }\n',
  // Stratified: the review sample is drawn over a shard's results, as merge's shards draw it.
  'auto-with-review': 'review: { sampleRate: 0.3, seed: 7, stratify: decision }\ngate:\n  agreement: { min: 0.85, bound: lower }\n  sampleErrorRate: { max: 0.2 }\n  regressions: { max: 0 }\n',
} as const;
type PhaseName = keyof typeof PHASES;

function suite(phase: PhaseName, agent: string): string {
  return [
    `name: shards-${phase}`,
    `phase: ${phase}`,
    'traces: ["../traces/small/*.jsonl"]',
    'tools: ../fixtures/refund-triage/tools.yaml',
    'reference: human',
    'candidate:',
    '  kind: module',
    `  module: ../fixtures/refund-triage/agents/${agent}`,
    'compare:',
    '  decision: { fields: [action, amount], numericTolerance: 0.01 }',
    '  effects: { ignoreArgs: [idempotency_key, note, reason] }',
    PHASES[phase],
  ].join('\n');
}

beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  mkdirSync(join(dir, 'traces', 'small'));
  const lines = readFileSync(join(dir, 'traces', 'refund-triage', '2026-w46.jsonl'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(join(dir, 'traces', 'small', 'part.jsonl'), `${lines.slice(0, 60).join('\n')}\n`);
  for (const phase of Object.keys(PHASES) as PhaseName[]) {
    writeFileSync(join(dir, 'suites', `base-${phase}.yaml`), suite(phase, 'policy-v1.mjs'));
    writeFileSync(join(dir, 'suites', `cand-${phase}.yaml`), suite(phase, 'regression-v2.mjs'));
    await cli(dir, 'run', `suites/base-${phase}.yaml`, '--json', `out/base-${phase}.json`, '--db', 'db/base.db');
  }
}, 120_000);
afterAll(() => cleanup?.());

describe('shards written into one run, finalized', () => {
  it('the bundled suite in 3 shards, 3 processes into one SQLite file: finalize gives the unsharded run\'s figures, verdict and results', async () => {
    const shards = [1, 2, 3].map((i) => spawnCli(dir, ['run', 'suites/refund-triage.yaml', '--db', 'db/one.db', '--run-id', 'nightly-1', '--shard', `${i}/3`, '--finalize']));
    const ran = await Promise.all(shards.map((s) => s.done));
    for (const r of ran) {
      expectNoError(r);
      expect(r.status === 0 || r.status === 1).toBe(true);
    }
    // The last shard to finish finalized the run (two finishing at once may both have).
    expect(ran.filter((r) => r.stdout.includes('run nightly-1 finalized from its 3 shard(s)')).length).toBeGreaterThanOrEqual(1);

    const finalized = await cli(dir, 'finalize', 'nightly-1', '--db', 'db/one.db', '--json', 'out/one-finalized.json');
    expectNoError(finalized);
    const whole = await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', 'db/whole.db', '--json', 'out/one-whole.json');
    const [all, unsharded] = [readJson('out/one-finalized.json'), readJson('out/one-whole.json')];
    expect(all.runId).toBe('nightly-1');
    expect(all.results).toHaveLength(480);
    expectSameRun(all, unsharded);
    expect(finalized.code).toBe(whole.code);
    // The shards' exits were the run's verdict where they finalized it.
    for (const r of ran.filter((x) => x.stdout.includes('finalized from'))) expect(r.status).toBe(whole.code);

    const db = new Database(join(dir, 'db/one.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT shard_index i, shard_count n, finished_at IS NOT NULL done, lease_token lease FROM run_shards ORDER BY shard_index').all()).toEqual(
        [1, 2, 3].map((i) => ({ i, n: 3, done: 1, lease: null })),
      );
      const run = db.prepare("SELECT finished_at, summary_json FROM runs WHERE run_id = 'nightly-1'").get() as { finished_at: string | null; summary_json: string };
      expect(run.finished_at).not.toBeNull();
      expect(JSON.parse(run.summary_json).gate.verdict).toBe(unsharded.gate.verdict);
    } finally {
      db.close();
    }
  }, 240_000);

  for (const phase of Object.keys(PHASES) as PhaseName[]) {
    it(`${phase}, with a baseline, in 3 shards: finalize gives the unsharded run's figures and verdict`, async () => {
      const common = ['--baseline', `out/base-${phase}.json`, '--concurrency', '1', '--db', 'db/phases.db'];
      const whole = await cli(dir, 'run', `suites/cand-${phase}.yaml`, '--json', `out/${phase}-whole.json`, ...common);
      const unsharded = readJson(`out/${phase}-whole.json`);
      // The case is worth testing: the phase's figures, and the pairing with the baseline, with regressions.
      if (phase !== 'shadow') expect(unsharded.metrics.phase).toBeDefined();
      expect(unsharded.gate.checks.find((c) => c.name === 'regressions')?.status).toBe('fail');
      for (const i of [1, 2, 3]) {
        const shard = await cli(dir, 'run', `suites/cand-${phase}.yaml`, '--run-id', `p-${phase}`, '--shard', `${i}/3`, ...common);
        expectNoError(shard);
      }
      const finalized = await cli(dir, 'finalize', `p-${phase}`, '--db', 'db/phases.db', '--json', `out/${phase}-finalized.json`);
      expectNoError(finalized);
      expectSameRun(readJson(`out/${phase}-finalized.json`), unsharded);
      expect(finalized.code).toBe(whole.code);
    }, 120_000);
  }

  it('a shard run again (the same --run-id and --shard) runs only what it lacks: nothing, once it has finished', async () => {
    const args = ['run', 'suites/cand-shadow.yaml', '--db', 'db/again.db', '--run-id', 'again', '--concurrency', '1'];
    await cli(dir, ...args, '--shard', '1/2');
    const again = await cli(dir, ...args, '--shard', '1/2', '--json', 'out/again-1.json');
    expectNoError(again);
    const shard = readJson('out/again-1.json');
    expect(again.stdout).toContain(`(${shard.results.length} resumed)`);
    await cli(dir, ...args, '--shard', '2/2');
    const finalized = await cli(dir, 'finalize', 'again', '--db', 'db/again.db', '--json', 'out/again.json');
    expectNoError(finalized);
    expect(readJson('out/again.json').results).toHaveLength(60);
  }, 120_000);
});

describe('shards into one run refuse', () => {
  it('a shard of another candidate than the run\'s, naming both candidate hashes (exit 2)', async () => {
    const args = ['--db', 'db/mixed.db', '--run-id', 'mixed', '--concurrency', '1'];
    expectNoError((await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '1/2', ...args)));
    const other = await cli(dir, 'run', 'suites/base-shadow.yaml', '--shard', '2/2', ...args);
    expect(other.code).toBe(2);
    const [stored, refused] = [readJson('out/shadow-whole.json'), readJson('out/base-shadow.json')];
    expect(stored.candidate.hash).not.toBe(refused.candidate.hash);
    expect(other.stderr).toContain(`run mixed was created by a shard of suite shards-shadow (suite hash ${stored.suite.hash})`);
    expect(other.stderr).toContain(`(candidate hash ${stored.candidate.hash})`);
    expect(other.stderr).toContain(`(candidate hash ${refused.candidate.hash})`);
    expect(other.stderr).not.toMatch(/internal error/);
  }, 60_000);

  it('a shard run with other settings (--trials) than a finished shard, naming both (exit 2); finalize, when the shards ran at once, refuses the same', async () => {
    const args = ['--db', 'db/trials.db', '--run-id', 'trials', '--concurrency', '1'];
    expectNoError(await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '1/2', ...args));
    const other = await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '2/2', '--trials', '3', ...args);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('error: run trials: shard 1/2 ran with trials 1; this shard runs with trials 3');
    expect(other.stderr).not.toMatch(/internal error/);
    // Shards that started at once check nothing of each other's settings (none is stored before a shard finishes): finalize does.
    expectNoError(await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '2/2', ...args));
    const db = new Database(join(dir, 'db/trials.db'));
    try {
      const row = db.prepare('SELECT summary_json FROM run_shards WHERE run_id = ? AND shard_index = 2').get('trials') as { summary_json: string };
      const summary = JSON.parse(row.summary_json) as { settings: { trials: number } };
      summary.settings.trials = 3;
      db.prepare('UPDATE run_shards SET summary_json = ? WHERE run_id = ? AND shard_index = 2').run(JSON.stringify(summary), 'trials');
    } finally {
      db.close();
    }
    const finalized = await cli(dir, 'finalize', 'trials', '--db', 'db/trials.db', '--json', 'out/trials.json');
    expect(finalized.code).toBe(2);
    expect(finalized.stderr).toContain('shard 2/2 of run trials: settings.trials: run with trials 3, shard 1/2 of run trials with 1');
    expect(existsSync(join(dir, 'out/trials.json'))).toBe(false);
  }, 60_000);

  it('a --run-id that is empty, too long or holds other characters than letters, digits and . _ - : (exit 2, before any store is opened)', async () => {
    for (const id of ['', 'a b', 'x'.repeat(129), '../up', 'run#1', 'naïve']) {
      const refused = await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '1/2', '--db', 'db/ids.db', '--run-id', id);
      expect(refused.code, JSON.stringify(id)).toBe(2);
      expect(refused.stderr).toContain("expected 1 to 128 letters, digits, '.', '_', '-' or ':'");
    }
    expect(existsSync(join(dir, 'db/ids.db'))).toBe(false);
    // The ids runs get, and one of every allowed character, are run ids.
    const ok = await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '1/2', '--db', 'db/ids.db', '--run-id', `nightly:1.2_3-${'x'.repeat(114)}`, '--concurrency', '1');
    expectNoError(ok);
    await cli(dir, 'run', 'suites/cand-shadow.yaml', '--db', 'db/ids.db', '--json', 'out/ids-default.json', '--concurrency', '1');
    expect(readJson('out/ids-default.json').runId).toMatch(RUN_ID);
  }, 60_000);

  it('a shard of another split, and finalize before every shard has finished, naming the missing shards (exit 2)', async () => {
    const args = ['--db', 'db/part.db', '--run-id', 'part', '--concurrency', '1'];
    await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '2/3', ...args);
    const split = await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '1/2', ...args);
    expect(split.code).toBe(2);
    expect(split.stderr).toContain('error: run part is split into 3 shards (shard 2/3 has started), not 2');
    const early = await cli(dir, 'finalize', 'part', '--db', 'db/part.db', '--json', 'out/part.json');
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('error: run part cannot be finalized: shard(s) 1/3 (not started), 3/3 (not started)');
    expect(existsSync(join(dir, 'out/part.json'))).toBe(false);
    const unknown = await cli(dir, 'finalize', 'nope', '--db', 'db/part.db');
    expect(unknown.code).toBe(2);
  }, 60_000);
});

describe('a lease per run and shard', () => {
  // Made-up traces and a slow made-up candidate (the parity of each trace's number), so that a shard is still running when the others start.
  const N = 120;
  let slow: string;
  beforeAll(() => {
    slow = mkdtempSync(join(tmpdir(), 'sg-shard-lease-'));
    writeEvenOddTraces(slow, N);
    writeFileSync(
      join(slow, 'slow.mjs'),
      `export async function run(input, ctx) {
  const r = await ctx.tools.lookup({ id: input.id });
  await new Promise((done) => setTimeout(done, 150));
  return { decision: r.even ? 'even' : 'odd' };
}
`,
    );
    writeFileSync(join(slow, 'suite.yaml'), 'name: slow\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: slow.mjs }\n');
  });
  afterAll(() => rmSync(slow, { recursive: true, force: true }));

  const query = <T>(sql: string): T[] => {
    if (!existsSync(join(slow, 's.db'))) return [];
    const db = new Database(join(slow, 's.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as T[];
    } catch {
      return []; // tables not created yet
    } finally {
      db.close();
    }
  };
  const stored = () => query<{ n: number }>('SELECT COUNT(*) n FROM results')[0]?.n ?? 0;
  const args = (shard: string) => ['run', 'suite.yaml', '--db', 's.db', '--run-id', 'leased', '--shard', shard, '--concurrency', '2', '--commit-every', '5'];

  it('refuses a second live writer of a shard, lets another shard of the run write at the same time, and resumes a killed shard with only what it lacks', async () => {
    const first = spawnCli(slow, args('1/2'));
    for (let i = 0; i < 800 && stored() < 10; i++) await new Promise((done) => setTimeout(done, 25));
    expect(query<{ pid: number }>('SELECT lease_pid pid FROM run_shards WHERE shard_index = 1')[0]?.pid).toBe(first.child.pid);

    const other = spawnCli(slow, args('2/2'));
    const second = await spawnCli(slow, args('1/2')).done;
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`error: shard 1 of run leased is being executed by pid ${first.child.pid} on host ${hostname()} (last heartbeat `);
    // Killed without warning, mid-shard: its lease stays in the store, held by a process that is gone.
    first.child.kill('SIGKILL');
    await first.done;
    const kept = query<{ n: number }>('SELECT COUNT(*) n FROM results')[0]!.n;
    const otherDone = await other.done;
    expectNoError(otherDone);
    expect(otherDone.status).toBe(0);
    expect(kept).toBeLessThan(N);
    const early = await cli(slow, 'finalize', 'leased', '--db', 's.db');
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('shard(s) 1/2 (not finished)');

    const resumed = await spawnCli(slow, [...args('1/2'), '--finalize', '--json', 'shard-1.json']).done;
    expectNoError(resumed);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/\(\d+ resumed\)/);
    expect(resumed.stdout).toContain('run leased finalized from its 2 shard(s)');
    expect(query<{ n: number; traces: number }>('SELECT COUNT(*) n, COUNT(DISTINCT trace_id) traces FROM results')[0]).toEqual({ n: N, traces: N });
    const finalized = await cli(slow, 'finalize', 'leased', '--db', 's.db', '--json', 'all.json');
    const all = JSON.parse(readFileSync(join(slow, 'all.json'), 'utf8')) as { metrics: { agreement: { n: number; successes: number } } };
    expect(finalized.code).toBe(0);
    expect(all.metrics.agreement).toMatchObject({ n: N, successes: N });
  }, 120_000);
});
