import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error a plain ESM script shared with the fixture's README instructions
import { digest } from '../fixtures/pool/digest.mjs';
import { cli, copyExample, ROOT } from './helpers.js';
import type { AnswerKind } from '../../src/replay/session.js';
import { callKey } from '../../src/trace/canonical.js';

// Module candidates run in a pool of child processes. Their results must be those the
// in-process runner gave on the same traces (stored in test/fixtures/pool, see its README),
// whatever the number of processes and of traces in flight.

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

const expected = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/pool/in-process-figures.json'), 'utf8')) as Record<string, unknown>;

describe('the bundled module suites in the pool', () => {
  it.each([
    ['refund-triage', '1', '1'],
    ['refund-triage-http', '2', '8'],
    ['refund-triage-regression', '3', '5'],
  ])('%s with --workers %s --concurrency %s gives the in-process figures and results', async (suite, workers, concurrency) => {
    const out = `out/${suite}.json`;
    const { code, stderr } = await cli(dir, 'run', `suites/${suite}.yaml`, '--json', out, '--db', 'db.sqlite', '--workers', workers, '--concurrency', concurrency);
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(suite === 'refund-triage-regression' ? 1 : 0);
    expect(digest(JSON.parse(readFileSync(join(dir, out), 'utf8')))).toEqual(expected[suite]);
  }, 120_000);
});

describe('the parent/child protocol', () => {
  it('forwards a request raw (method, URL, headers without credentials, body) and streams the answer back chunk by chunk', async () => {
    const { createCandidatePool } = await import('../../src/replay/pool/pool.js');
    const pool = createCandidatePool({
      module: join(ROOT, 'test/fixtures/pool/stream-reader.mjs'),
      workers: 1,
      llm: {},
      tools: ['next_chunk'],
      allow: { childProcess: false, worker: false, addons: false, fsWrite: [] },
      env: {},
    });
    try {
      await pool.start();
      const events = ['data: {"delta":"a"}\n\n', 'data: {"delta":"b"}\n\n', 'data: [DONE]\n\n'];
      let release: (() => void) | undefined;
      let seen: { method: string; url: string; headers: Record<string, string>; body: unknown } | undefined;
      const end = await pool.run(
        { id: 't1', caseId: 't1', workflow: 'w', trial: 0 },
        { ticket: 42 },
        {
          // The candidate asks for each next chunk after reading one: the next is sent only then.
          callTool: async () => {
            release?.();
            return null;
          },
          replayTool: () => {
            throw new Error('this pool answers no tool call in its children');
          },
          request: async (request) => {
            seen = { method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: await request.json() };
            const body = new ReadableStream<Uint8Array>({
              async start(controller) {
                for (const event of events) {
                  controller.enqueue(new TextEncoder().encode(event));
                  await new Promise<void>((resolve) => (release = resolve));
                }
                controller.close();
              },
            });
            return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
          },
          attempt: () => {
            throw new Error('no attempt expected');
          },
        },
        new AbortController().signal,
      );
      expect(end).toEqual({ kind: 'done', value: { decision: { status: 200, type: 'text/event-stream', chunks: events } } });
      expect(seen).toEqual({
        method: 'POST',
        url: 'https://api.example.test/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'x-trace': 't1' },
        body: { stream: true, input: { ticket: 42 } },
      });
    } finally {
      await pool.close();
    }
  });
});

/** A pool of one process running a fixture of test/fixtures/pool with one tool, `lookup`, answered by the parent. */
async function onePool(fixture: string, graceMs?: number) {
  const { createCandidatePool } = await import('../../src/replay/pool/pool.js');
  return createCandidatePool({
    ...(graceMs === undefined ? {} : { graceMs }),
    module: join(ROOT, 'test/fixtures/pool', fixture),
    workers: 1,
    llm: {},
    tools: ['lookup'],
    allow: { childProcess: false, worker: false, addons: false, fsWrite: [] },
    env: {},
  });
}

/** A host that answers tool calls with `answer` and every request with a 404. */
function remoteToolsHost(answer: (args: Record<string, unknown>) => unknown) {
  return {
    callTool: async (_name: string, args: Record<string, unknown>) => answer(args),
    replayTool: (): never => {
      throw new Error('this pool answers no tool call in its children');
    },
    request: async () => new Response(null, { status: 404 }),
  };
}

describe('messages sent together', () => {
  it('fail one at a time: a tool call or an outcome that cannot be copied to the other process fails only its own trace', async () => {
    const pool = await onePool('unclonable.mjs');
    const calls: unknown[] = [];
    const host = {
      ...remoteToolsHost((args) => (calls.push(args), { found: args.id })),
      attempt: () => {
        throw new Error('no attempt expected');
      },
    };
    try {
      await pool.start();
      // Started in the same turn, so that their messages to and from the child travel together.
      const ends = await Promise.all(
        [
          { mode: 'tool-args', n: 1 },
          { mode: 'outcome', n: 2 },
          { mode: 'plain', n: 3 },
          { mode: 'plain', n: 4 },
        ].map((input, i) => pool.run({ id: `t${i}`, caseId: `t${i}`, workflow: 'w', trial: 0 }, input, host, new AbortController().signal)),
      );
      expect(ends[0]).toEqual({ kind: 'done', value: { decision: { tool: 'rejected', message: expect.stringMatching(/could not be cloned/) } } });
      expect(ends[1]).toMatchObject({ kind: 'threw', error: { code: 'CANDIDATE_OUTPUT_INVALID', message: expect.stringMatching(/cannot be sent to shadowgate.*could not be cloned/) } });
      expect(ends.slice(2)).toEqual([
        { kind: 'done', value: { decision: { action: 'ok', n: 3, lookup: { found: 3 } } } },
        { kind: 'done', value: { decision: { action: 'ok', n: 4, lookup: { found: 4 } } } },
      ]);
      // The call whose arguments could not be sent never reached the harness.
      expect(calls).toEqual([{ id: 3 }, { id: 4 }]);
    } finally {
      await pool.close();
    }
  });
});

describe('a trace whose budget ends while it waits in its process', () => {
  it('never runs: the process answers it stopped, and none of its code reaches the harness', async () => {
    // A long grace: a process slow to answer under load is not killed for it (that would end its traces otherwise).
    const pool = await onePool('busy-then-call.mjs', 10_000);
    const called: unknown[] = [];
    const host = { ...remoteToolsHost((args) => (called.push(args.id), { ok: true })), attempt: () => {} };
    try {
      await pool.start();
      // Sent together; each trace's budget (30 ms) ends while the process is busy with the first ones.
      const ends = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) => {
          const controller = new AbortController();
          setTimeout(() => controller.abort(new Error('wall-clock budget exhausted')), 30);
          return pool.run({ id: `t${n}`, caseId: `t${n}`, workflow: 'w', trial: 0 }, { n, busyMs: 100 }, host, controller.signal);
        }),
      );
      // The traces started before the aborts came ran on (their calls, after their end, are strays); the others never started.
      const neverRan = ends.flatMap((end, i) => (end.kind === 'threw' && end.error.code === 'SG_BUDGET_EXCEEDED' ? [`t${i + 1}`] : []));
      expect(neverRan.length).toBeGreaterThanOrEqual(3);
      const strays = pool.runLevel().map((s) => s.startedBy);
      expect(strays).toHaveLength(6 - neverRan.length);
      expect(strays.filter((id) => neverRan.includes(id!))).toEqual([]);
      expect(called).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 30_000);
});

describe('a trace whose budget ends while its process starts', () => {
  it('is never sent to it: it ends stopped, and none of its code runs', async () => {
    const pool = await onePool('busy-then-call.mjs');
    const called: unknown[] = [];
    try {
      const controller = new AbortController();
      const end = pool.run({ id: 't1', caseId: 't1', workflow: 'w', trial: 0 }, { n: 1, busyMs: 0 }, { ...remoteToolsHost((args) => (called.push(args.id), { ok: true })), attempt: () => {} }, controller.signal);
      controller.abort(new Error('wall-clock budget exhausted'));
      expect(await end).toEqual({ kind: 'threw', error: { code: 'SG_BUDGET_EXCEEDED', message: 'wall-clock budget exhausted' } });
      expect(called).toEqual([]);
      expect(pool.runLevel()).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 30_000);
});

describe('tool calls answered in the candidate\'s process', () => {
  // The child answers from the trace's recorded answers and tells the harness what it answered;
  // the harness replays each call through its own session (here: `replayTool`).
  const catalog = { tools: [{ name: 'lookup', effect: 'read' as const }] };
  const mocks = { match: 'exact' as const, ignoreArgs: [] };
  const recordings = [3, 4].map((id) => ({ key: callKey('lookup', { id }), step: { type: 'tool' as const, name: 'lookup', args: { id }, result: { found: `recorded ${id}` } } }));
  const start = async () => {
    const { createCandidatePool } = await import('../../src/replay/pool/pool.js');
    const pool = createCandidatePool({
      module: join(ROOT, 'test/fixtures/pool/unclonable.mjs'),
      workers: 1,
      llm: {},
      tools: ['lookup'],
      allow: { childProcess: false, worker: false, addons: false, fsWrite: [] },
      env: {},
      local: { catalog, mocks, budgets: {} },
    });
    await pool.start();
    return pool;
  };
  const hostAnswering = (answer: (args: Record<string, unknown>) => AnswerKind, replayed: unknown[]) => ({
    callTool: async () => {
      throw new Error('no call should reach the harness to be answered');
    },
    replayTool: (_name: string, args: Record<string, unknown>) => (replayed.push(args), answer(args)),
    request: async () => new Response(null, { status: 404 }),
    attempt: () => {
      throw new Error('no attempt expected');
    },
  });

  it('answers from the recording in the child, and the harness replays every call in order', async () => {
    const pool = await start();
    const replayed: unknown[] = [];
    try {
      const host = hostAnswering(() => 'result', replayed);
      const ends = await Promise.all(
        [3, 4].map((n) => pool.run({ id: `t${n}`, caseId: `t${n}`, workflow: 'w', trial: 0 }, { mode: 'plain', n }, host, new AbortController().signal, recordings)),
      );
      expect(ends).toEqual([3, 4].map((n) => ({ kind: 'done', value: { decision: { action: 'ok', n, lookup: { found: `recorded ${n}` } } } })));
      expect(replayed).toEqual([{ id: 3 }, { id: 4 }]);
      expect(pool.runLevel()).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('refuses a child whose answer is not the one the harness gives: its trace ends CANDIDATE_CRASHED, a protocol violation is recorded', async () => {
    const pool = await start();
    try {
      // The harness's session says the call is off the recorded path; the child answered it.
      const host = hostAnswering(() => 'stop', []);
      const end = await pool.run({ id: 't3', caseId: 't3', workflow: 'w', trial: 0 }, { mode: 'plain', n: 3 }, host, new AbortController().signal, recordings);
      expect(end).toMatchObject({ kind: 'crashed', error: { code: 'CANDIDATE_CRASHED' } });
      expect(pool.runLevel()).toEqual([
        { attempt: expect.objectContaining({ kind: 'protocol', why: 'a lookup call answered with a result where the harness gives a stop' }), startedBy: null },
      ]);
    } finally {
      await pool.close();
    }
  });

  it('sends the child no recorded arguments: recordings are keyed by a digest of the call', async () => {
    const { recordedAnswers, digestKey } = await import('../../src/replay/pool/local-answers.js');
    const secret = { type: 'tool' as const, name: 'issue_refund', args: { amount: 4242, order_id: 'A-secret' }, result: { refund_id: 'R1' } };
    const answers = recordedAnswers([{ key: callKey(secret.name, secret.args), step: secret }]);
    expect(answers).toEqual([{ name: 'issue_refund', key: digestKey(callKey(secret.name, secret.args)), result: { refund_id: 'R1' } }]);
    expect(JSON.stringify(answers)).not.toMatch(/4242|A-secret/);
  });
});

describe('a run that fails after its candidate started', () => {
  it('ends: the candidate’s idle processes do not keep a program that uses the library alive', async () => {
    const { spawnSync } = await import('node:child_process');
    // No process.exit anywhere: the script ends when nothing keeps its event loop alive.
    const script = `
      import { loadSuite } from ${JSON.stringify(join(ROOT, 'dist/suite/load.js'))};
      import { runSuite } from ${JSON.stringify(join(ROOT, 'dist/run/run-suite.js'))};
      import { createMemoryStore } from ${JSON.stringify(join(ROOT, 'dist/store/memory.js'))};
      import { readdirSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      const scratch = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('shadowgate-scratch-')));
      const before = scratch();
      const suite = await loadSuite('suites/refund-triage.yaml');
      await runSuite(suite, { store: createMemoryStore(), resume: 'no-such-run' }).catch((e) => console.log(e.message));
      // Registered after the run's own exit listeners, so that it looks once they ran.
      process.on('exit', () => console.log('scratch folders left: ' + [...scratch()].filter((f) => !before.has(f)).length));
    `;
    // A temporary folder of its own: other test files running at the same time make scratch folders too.
    const tmp = mkdtempSync(join(tmpdir(), 'sg-pool-end-'));
    const ran = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, TMPDIR: tmp } });
    rmSync(tmp, { recursive: true, force: true });
    expect(ran.signal).toBeNull();
    expect(ran.stdout).toContain('no run no-such-run in the store');
    expect(ran.stdout).toContain('scratch folders left: 0');
  }, 30_000);
});
