import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, writeEvenOddTraces } from './helpers.js';

// One live writer per run: a real `shadowgate run` holds its run's lease; a `--resume` of it is
// refused while it lives, and once it is killed, of two `--resume` started at once one takes the
// run over and finishes it, the other is refused, and every trace is in the run exactly once.
// The traces and the candidate are made up here: a slow candidate that answers each trace's parity.
const N = 200;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-lease-'));
  writeEvenOddTraces(dir, N);
  writeFileSync(
    join(dir, 'slow.mjs'),
    `export async function run(input, ctx) {
  const r = await ctx.tools.lookup({ id: input.id });
  await new Promise((done) => setTimeout(done, 60));
  return { decision: r.even ? 'even' : 'odd' };
}
`,
  );
  writeFileSync(join(dir, 'suite.yaml'), 'name: slow\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: slow.mjs }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bin = join(ROOT, 'bin/shadowgate.js');
const env = { ...process.env, CI: 'true' };
const GROUP = 5;
const runArgs = ['run', 'suite.yaml', '--db', 'lease.db', '--concurrency', '2', '--commit-every', String(GROUP)];

/** Runs the CLI as a process of its own; resolves with its pid, exit code and output. */
function shadowgate(args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { ...env, ...extraEnv } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ pid: number; status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (status) => resolve({ pid: child.pid!, status, stdout, stderr })),
  );
  return { child, done };
}

function query<T>(sql: string, file = 'lease.db'): T[] {
  if (!existsSync(join(dir, file))) return [];
  const db = new Database(join(dir, file), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } catch {
    return []; // tables not created yet
  } finally {
    db.close();
  }
}
const stored = (file = 'lease.db') => (query<{ n: number }>('select count(*) n from results', file)[0]?.n ?? 0);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

let runId: string;
let kept: number;

it('refuses a --resume of a run that a live process is executing, naming the holder (exit 2)', async () => {
  const first = shadowgate(runArgs);
  for (let i = 0; i < 800 && stored() < 2 * GROUP; i++) await new Promise((done) => setTimeout(done, 25));
  runId = query<{ run_id: string }>('select run_id from runs')[0]!.run_id;
  const lease = query<{ lease_pid: number; lease_host: string }>('select lease_pid, lease_host from runs')[0]!;
  expect(lease).toEqual({ lease_pid: first.child.pid, lease_host: hostname() });

  const refused = await shadowgate([...runArgs, '--resume', runId]).done;
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(new RegExp(`^error: run ${runId} is being executed by pid ${first.child.pid} on host ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(last heartbeat \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\n`));
  expect(refused.stderr).not.toMatch(/internal error|at .*\.js:\d+/);

  // Killed without warning: its lease stays in the store, held by a process that is gone.
  first.child.kill('SIGKILL');
  await first.done;
  kept = stored();
  expect(kept).toBeGreaterThanOrEqual(2 * GROUP);
  expect(kept).toBeLessThan(N);
  expect(query<{ lease_pid: number }>('select lease_pid from runs')[0]!.lease_pid).toBe(first.child.pid);
});

it('lets one of two --resume started at once take the killed run over and finish it; the other is refused, and every trace is stored once', async () => {
  const a = shadowgate([...runArgs, '--resume', runId, '--json', 'a.json']);
  const b = shadowgate([...runArgs, '--resume', runId, '--json', 'b.json']);
  const both = await Promise.all([a.done, b.done]);
  const finished = both.filter((r) => r.status === 0);
  const refused = both.filter((r) => r.status === 2);
  expect({ finished: finished.length, refused: refused.length }).toEqual({ finished: 1, refused: 1 });
  const [winner] = finished;
  expect(refused[0]!.stderr).toContain(`error: run ${runId} is being executed by pid ${winner!.pid} on host ${hostname()} (last heartbeat `);
  expect(winner!.stdout).toContain(`${N} (${kept} resumed)`);
  expect(winner!.stdout).not.toContain('duplicate trace id');

  const out = JSON.parse(readFileSync(join(dir, winner === both[0] ? 'a.json' : 'b.json'), 'utf8'));
  expect(existsSync(join(dir, winner === both[0] ? 'b.json' : 'a.json'))).toBe(false);
  expect(out.runId).toBe(runId);
  expect(out.issues).toEqual([]);
  expect(out.results.map((r: { traceId: string }) => r.traceId).sort()).toEqual(Array.from({ length: N }, (_, i) => `t${i}`).sort());
  expect(out.metrics.agreement).toMatchObject({ rate: 1, n: N, successes: N });
  // In the store: every trace once, the run finished, and its lease let go.
  expect(query<{ n: number; traces: number }>('select count(*) n, count(distinct trace_id) traces from results')[0]).toEqual({ n: N, traces: N });
  expect(query<{ finished: number; lease: string | null }>('select finished_at is not null finished, lease_token lease from runs')[0]).toEqual({ finished: 1, lease: null });
});

it('takes over a holder that went silent (stopped, not dead) after the timeout; the former holder, woken, writes nothing more and fails (exit 2)', async () => {
  const args = ['run', 'suite.yaml', '--db', 'silent.db', '--concurrency', '2', '--commit-every', String(GROUP)];
  const first = shadowgate(args);
  for (let i = 0; i < 800 && stored('silent.db') < 2 * GROUP; i++) await sleep(25);
  const id = query<{ run_id: string }>('select run_id from runs', 'silent.db')[0]!.run_id;
  first.child.kill('SIGSTOP');
  try {
    // Its heartbeat (every 5 s by default) is soon older than a 1.5 s timeout: the process lives, but says nothing.
    await sleep(1600);
    const second = shadowgate([...args, '--resume', id, '--json', 'silent.json'], { SHADOWGATE_LEASE_TIMEOUT_MS: '1500' });
    for (let i = 0; i < 800 && query<{ pid: number }>('select lease_pid pid from runs', 'silent.db')[0]?.pid !== second.child.pid; i++) await sleep(25);
    first.child.kill('SIGCONT');
    const [former, taker] = await Promise.all([first.done, second.done]);
    expect(former.status).toBe(2);
    expect(former.stderr).toContain(`error: run ${id} is no longer this process's to write: it is held by pid ${taker.pid} on host ${hostname()} (last heartbeat `);
    expect(taker.status).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, 'silent.json'), 'utf8'));
    expect(out.issues).toEqual([]);
    expect(out.results.map((r: { traceId: string }) => r.traceId).sort()).toEqual(Array.from({ length: N }, (_, i) => `t${i}`).sort());
    expect(query<{ n: number; traces: number }>('select count(*) n, count(distinct trace_id) traces from results', 'silent.db')[0]).toEqual({ n: N, traces: N });
  } finally {
    first.child.kill('SIGKILL');
  }
});
