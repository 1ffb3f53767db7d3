import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { decisionsAgree, type DecisionComparator } from '../../src/metrics/compare.js';
import { DECIDED_STATUSES, type ResultStatus } from '../../src/replay/types.js';
import { copyExampleInto, ROOT } from '../example.js';
// @ts-expect-error a plain ESM script (the pool test's digest of a results file)
import { digest } from '../fixtures/pool/digest.mjs';

export { ROOT };

/**
 * A copy of the example's suites, traces and fixtures in a temp folder, so tests can break them:
 * the bundled files only (test/example.ts), never a user's own suites or traces beside them.
 */
export function copyExample(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sg-e2e-'));
  copyExampleInto(dir);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the CLI in-process with captured output, as a user would in `cwd`. */
export async function cli(cwd: string, ...argv: string[]) {
  return cliWithEnv(cwd, {}, ...argv);
}

/** `cli`, with these variables (API keys) in the CLI's environment as well. */
export async function cliWithEnv(cwd: string, env: Record<string, string>, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CI: 'true', ...env },
    cwd,
  });
  return { code, stdout, stderr };
}

/** What a CLI process of its own ended with. */
export interface Spawned {
  pid: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (bin/shadowgate.js, so `npm run build` first) as a process of its own in
 * `cwd`, as on a machine of its own: `input` is its whole stdin (answers to `review`), `env` more
 * variables. `child` is there to kill it; `done` resolves when it has exited.
 */
export function spawnCli(cwd: string, args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): { child: ChildProcessWithoutNullStreams; done: Promise<Spawned> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/shadowgate.js'), ...args], { cwd, env: { ...process.env, CI: 'true', ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A process that exits before reading its input closes the pipe: nothing to report.
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  const done = new Promise<Spawned>((resolve) => child.once('close', (status) => resolve({ pid: child.pid!, status, stdout, stderr })));
  return { child, done };
}

/** Progress goes to stderr: a command went well when nothing there is an error or a hint. */
export function expectNoError(r: { stderr: string }): void {
  expect(r.stderr).not.toMatch(/error|hint:/);
}

/** A run's metrics without latency, which is measured afresh on every run: every other figure is comparable. */
export const comparable = (metrics: Record<string, unknown>) => ({ ...metrics, latency: undefined });

/** The parts of a results file (`run --json`) the comparisons below read. */
export interface RunJson {
  runId: string;
  startedAt: string;
  candidate: { hash: string };
  suite: { hash: string };
  counts: unknown;
  metrics: Record<string, unknown> & { paired?: unknown; phase?: unknown };
  gate: { verdict: string; checks: { name: string; status: string; value: number | null }[] };
  results: { traceId: string; trial: number; agree: boolean | null }[];
}

/** A result of a suggest run as its results file has it: what its review verdict is decided from. */
export interface SuggestResultJson {
  traceId: string;
  trial: number;
  status: string;
  decision: unknown;
  reference: { decision: unknown; review?: { verdict?: 'accepted' | 'edited' | 'rejected'; reviewed?: unknown } };
}

/**
 * The override rate's counts over a suggest run's results, as DESIGN defines them, worked out here
 * from the results file: each case once (its first trial), results with an outcome only; a result's
 * verdict is the review queue's latest (`queue`, by trace id) where it has one; else the recorded
 * verdict, where it judged what the candidate suggests; else one simulated against the human
 * decision, overridden when the two do not agree under the suite's comparator. `fromQueue`: the
 * reviewed whose verdict came from the queue.
 */
export function overrideCounts(
  results: readonly SuggestResultJson[],
  comparator: DecisionComparator,
  queue: ReadonlyMap<string, 'accepted' | 'edited' | 'rejected'> = new Map(),
): { n: number; successes: number; fromQueue: number } {
  let n = 0, successes = 0, fromQueue = 0;
  for (const r of results) {
    if (r.trial !== 0 || !DECIDED_STATUSES.includes(r.status as ResultStatus)) continue;
    const review = r.reference.review;
    const queued = queue.get(r.traceId);
    const recorded = review?.verdict && (review.reviewed === undefined || decisionsAgree(r.decision, review.reviewed, comparator)) ? review.verdict : undefined;
    const overridden = queued ? queued !== 'accepted' : recorded ? recorded !== 'accepted' : r.reference.decision !== null ? !decisionsAgree(r.decision, r.reference.decision, comparator) : null;
    if (overridden === null) continue;
    n++;
    if (overridden) successes++;
    if (queued) fromQueue++;
  }
  return { n, successes, fromQueue };
}

/** A run's checks as [name, status, value]. */
export const checksOf = (run: RunJson) => run.gate.checks.map((c) => [c.name, c.status, c.value]);

/**
 * Two runs of the same traces gave the same run: metrics (but latency), counts, checks, verdict,
 * and every result (the pool test's digest) — a finalized or merged run against an unsharded
 * one, or the same run in two stores.
 */
export function expectSameRun(run: RunJson, other: RunJson): void {
  expect(comparable(run.metrics)).toEqual(comparable(other.metrics));
  expect(run.counts).toEqual(other.counts);
  expect(checksOf(run)).toEqual(checksOf(other));
  expect(run.gate.verdict).toBe(other.gate.verdict);
  expect(digest(run)).toEqual(digest(other));
}

/** The tests' PostgreSQL server (test/postgres-setup.ts); none is a failure that says what to install. */
export function pgServerUrl(): URL {
  const url = inject('pgUrl');
  if (!url) throw new Error(inject('pgMissing'));
  return new URL(url);
}

/** Runs `body` with a client of `url` (the server's own database when not given), closed afterwards. */
export async function pgClient<T>(body: (client: pg.Client) => Promise<T>, url = pgServerUrl().toString()): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

let pgSchemas = 0;
/**
 * A schema of its own on the tests' server, so that a test never sees another's rows: `url`
 * selects it (`options=-c search_path=…`, which the CLI passes through as any other URL). With
 * `password`, `url` logs in as a role of the test's own made with that password (owner of the
 * schema), so that the URL's password is the one the server checks, whatever the server's
 * authentication; a server that will not let the role in is a failure saying so, never a pass.
 * `drop` deletes the schema, everything in it and the role.
 */
export async function pgSchema(password?: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `sg_e2e_${process.pid}_${Date.now().toString(36)}_${++pgSchemas}`;
  const url = pgServerUrl();
  if (!password) {
    await pgClient((c) => c.query(`CREATE SCHEMA ${schema}`));
    url.searchParams.set('options', `-c search_path=${schema}`);
    return { url: url.toString(), drop: () => pgClient((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined) };
  }
  const role = `${schema}_role`;
  const drop = () =>
    pgClient(async (c) => {
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.query(`DROP ROLE IF EXISTS ${role}`);
    });
  try {
    await pgClient(async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN PASSWORD ${c.escapeLiteral(password)}`);
      await c.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${role}`);
    });
  } catch (error) {
    await drop().catch(() => undefined);
    throw new Error(`the tests' PostgreSQL server (${pgServerUrl().host}) would not make a role with a password of the test's own (its user needs CREATEROLE): ${(error as Error).message}`);
  }
  url.username = role;
  url.password = encodeURIComponent(password);
  url.searchParams.set('options', `-c search_path=${schema}`);
  try {
    await pgClient((c) => c.query('SELECT 1'), url.toString());
  } catch (error) {
    await drop().catch(() => undefined);
    throw new Error(`the tests' PostgreSQL server (${url.host}) refused role ${role} its password: this test needs password authentication (md5 or scram-sha-256 in pg_hba.conf) for ${url.host}: ${(error as Error).message}`);
  }
  return { url: url.toString(), drop };
}

/**
 * Made-up traces for the resume and lease tests: `n` traces of one read tool (`lookup`) whose
 * reference decision is whether the trace's number is even, and their one-tool catalog.
 */
export function writeEvenOddTraces(dir: string, n: number): void {
  const traces = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      schema: 'shadowgate.trace/v1',
      id: `t${i}`,
      workflow: 'slow',
      input: { id: i },
      steps: [{ type: 'tool', name: 'lookup', args: { id: i }, result: { even: i % 2 === 0 } }],
      human: { decision: i % 2 === 0 ? 'even' : 'odd' },
    }),
  );
  writeFileSync(join(dir, 'traces.jsonl'), `${traces.join('\n')}\n`);
  writeFileSync(join(dir, 'tools.yaml'), 'tools:\n  - name: lookup\n    effect: read\n');
}
