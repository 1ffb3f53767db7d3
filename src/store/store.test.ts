import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { DuplicateResultError, LeaseLostError, StoreError } from '../errors.js';
import { resultKey, type TraceResult } from '../replay/types.js';
import { createMemoryStore } from './memory.js';
import { migrations } from './migrations.js';
import { pgMigrations } from './pg-migrations.js';
import { createPostgresStore } from './postgres.js';
import { createSqliteStore } from './sqlite.js';
import { isEvidenceRun, type RunMeta, type Store } from './types.js';

function aRun(overrides: Partial<RunMeta> = {}): RunMeta {
  return {
    runId: 'run-1',
    suite: 'refund-triage',
    suiteFile: 'suites/refund-triage.yaml',
    suiteHash: 'suite-hash',
    candidateHash: 'candidate-hash',
    candidate: 'openai:gpt-4.1-mini',
    model: 'gpt-4.1-mini',
    promptVersion: 'v3',
    phase: 'observe',
    reference: 'human',
    gitCommit: 'abc123',
    gitRef: 'main',
    startedAt: '2025-01-01T00:00:00.000Z',
    candidateSource: { raw: { kind: 'module', module: 'agents/a.mjs' }, dir: '/suites' },
    replica: 0,
    ...overrides,
  };
}

function aResult(traceId: string, trial = 0, overrides: Partial<TraceResult> = {}): TraceResult {
  return {
    traceId,
    caseId: `case-${traceId}`,
    trial,
    status: 'completed',
    agree: true,
    effectsAgree: true,
    sequenceSimilarity: 1,
    divergence: null,
    costUsd: 0.001,
    latencyMs: 120,
    decision: { action: 'refund', amount: 20 },
    effects: [],
    usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 0 },
    error: null,
    reference: { decision: { action: 'refund', amount: 20 }, tools: ['lookup_order', 'refund'] },
    source: { file: 'traces/refunds.jsonl', line: 1 },
    steps: [],
    ...overrides,
  };
}

function append(store: Store, runId: string, result: TraceResult): void {
  store.appendResult(runId, resultKey(result.traceId, result.trial), result);
}

/** A fresh temp directory per test, removed afterwards. */
function useTempDir(): () => string {
  let dir: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shadowgate-store-'));
  });
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => dir ?? '';
}

const tempDir = useTempDir();

/**
 * The PostgreSQL server of the tests (test/postgres-setup.ts): SHADOWGATE_TEST_PG_URL or a
 * throwaway cluster. None is a failure that says what to install, never a skip.
 */
export function testPgUrl(): string {
  const url = inject('pgUrl');
  if (!url) throw new Error(inject('pgMissing'));
  return url;
}

let schemas = 0;
/** A schema of its own for each test, so that tests never see each other's rows; dropped afterwards. */
function pgSchema(): string {
  return `sg_test_${process.pid}_${Date.now().toString(36)}_${++schemas}`;
}

async function pgQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** What reading every result, and one trace's results, of `run-1` threw (or null). */
function readFailures(store: Store): [unknown, unknown] {
  const caught = (read: () => unknown) => {
    try {
      read();
      return null;
    } catch (error) {
      return error;
    }
  };
  return [caught(() => [...store.results('run-1')]), caught(() => store.resultsOfTrace('run-1', 't-2'))];
}

describe.each([
  { name: 'sqlite :memory:', open: () => createSqliteStore(':memory:') },
  { name: 'sqlite file', open: () => createSqliteStore(join(tempDir(), 'nested', 'shadowgate.db')) },
  { name: 'memory', open: () => createMemoryStore() },
  { name: 'postgres', open: (schema: string) => createPostgresStore(testPgUrl(), { schema }), drop: dropSchema },
])('Store contract: $name', ({ open, drop }: { open: (schema: string) => Store; drop?: (schema: string) => Promise<void> }) => {
  let store: Store;
  let opened: Store | undefined;
  let schema: string;
  beforeEach(() => {
    schema = pgSchema();
    opened = undefined;
    store = opened = open(schema);
  });
  afterEach(async () => {
    opened?.close();
    if (drop && opened) await drop(schema);
  });

  it('creates a run and reads it back as running', () => {
    store.createRun(aRun({ model: null, gitRef: null }));
    expect(store.getRun('run-1')).toEqual({
      ...aRun({ model: null, gitRef: null }),
      shard: null,
      tracesHash: null,
      finishedAt: null,
      summary: null,
    });
  });

  it("keeps the share of the traces a run runs and the digest of its trace files, for --resume to run the same traces and no other", () => {
    store.createRun({ ...aRun(), shard: '2/3', tracesHash: 'abc' });
    store.createRun({ ...aRun({ runId: 'run-2' }), shard: '1/1' });
    expect(store.getRun('run-1')).toMatchObject({ shard: '2/3', tracesHash: 'abc' });
    expect(store.getRun('run-2')!.tracesHash).toBeNull();
    expect(store.listRuns().map((r) => [r.runId, r.shard]).sort()).toEqual([['run-1', '2/3'], ['run-2', '1/1']]);
  });

  it('refuses a second run with the same id', () => {
    store.createRun(aRun());
    expect(() => store.createRun(aRun())).toThrow(StoreError);
  });

  it('appends results and returns their keys, count and contents in append order', () => {
    store.createRun(aRun());
    const appended = [aResult('t-3'), aResult('t-1'), aResult('t-1', 1, { status: 'diverged', agree: null })];
    for (const result of appended) append(store, 'run-1', result);

    expect(store.resultKeys('run-1')).toEqual(new Set(['t-3#0', 't-1#0', 't-1#1']));
    expect(store.countResults('run-1')).toBe(3);
    expect([...store.results('run-1')]).toEqual(appended);
    // As stored: the same results, with their keys in the order they were appended in (written to results.json as they are).
    const texts = [...store.resultsJson('run-1')];
    expect(texts.map((t) => JSON.parse(t))).toEqual(appended);
    expect(texts.map((t) => Object.keys(JSON.parse(t)))).toEqual(appended.map((r) => Object.keys(r)));
  });

  it('keeps results of different runs apart', () => {
    store.createRun(aRun({ runId: 'a' }));
    store.createRun(aRun({ runId: 'b' }));
    append(store, 'a', aResult('t-1'));
    append(store, 'b', aResult('t-2'));
    expect([...store.results('b')]).toEqual([aResult('t-2')]);
    expect(store.countResults('a')).toBe(1);
  });

  it('throws a DuplicateResultError on a duplicate append and keeps the first result', () => {
    store.createRun(aRun());
    append(store, 'run-1', aResult('t-1'));
    expect(() => append(store, 'run-1', aResult('t-1', 0, { status: 'error' }))).toThrow(DuplicateResultError);
    expect([...store.results('run-1')]).toEqual([aResult('t-1')]);
  });

  it('appends a group in one call: each result stored or refused on its own, the others kept, in order', () => {
    store.createRun(aRun());
    append(store, 'run-1', aResult('t-0'));
    const notJson = aResult('t-4', 0, { decision: { amount: 10n } });
    const group = [aResult('t-1'), aResult('t-0', 0, { status: 'error' }), aResult('t-2'), aResult('t-2', 0, { status: 'error' }), notJson, aResult('t-3')];
    const outcomes = store.appendResults('run-1', group.map((result) => ({ key: resultKey(result.traceId, result.trial), result })));
    expect(outcomes.map((o) => (o === null ? 'stored' : o instanceof DuplicateResultError ? 'duplicate' : o.name))).toEqual([
      'stored',
      'duplicate',
      'stored',
      'duplicate',
      'TypeError',
      'stored',
    ]);
    expect([...store.results('run-1')]).toEqual([aResult('t-0'), aResult('t-1'), aResult('t-2'), aResult('t-3')]);
    expect(() => store.appendResults('nope', [{ key: 't#0', result: aResult('t') }])).toThrow(StoreError);
    expect(store.countResults('nope')).toBe(0);
  });

  it('reads the results of one trace, every trial, and no other trace', () => {
    store.createRun(aRun());
    append(store, 'run-1', aResult('t-1', 0));
    append(store, 'run-1', aResult('t-10', 0));
    append(store, 'run-1', aResult('t-1', 1));
    expect(store.resultsOfTrace('run-1', 't-1')).toEqual([aResult('t-1', 0), aResult('t-1', 1)]);
    expect(store.resultsOfTrace('run-1', 't-2')).toEqual([]);
  });

  it('queues review items once each, and keeps every verdict appended, never changed', () => {
    store.createRun(aRun());
    const item = { runId: 'run-1', traceId: 't-1', trial: 0, workflow: 'w', phase: 'suggest', input: { a: 1 }, steps: [], suggestion: { action: 'deny' }, reference: { action: 'refund' }, enqueuedAt: '2026-01-01T00:00:00.000Z' };
    const id = store.enqueueReview(item);
    expect(store.enqueueReview(item)).toBe(id); // the same run, trace and trial: nothing new
    const other = store.enqueueReview({ ...item, traceId: 't-2' });
    expect(store.reviewItems({ pending: true }).map((i) => i.traceId)).toEqual(['t-1', 't-2']);
    store.addVerdict({ itemId: id, verdict: 'edited', final: { action: 'refund' }, reviewer: 'ana', at: '2026-01-02T00:00:00.000Z' });
    store.addVerdict({ itemId: id, verdict: 'rejected', reason: 'wrong customer', reviewer: 'bo', at: '2026-01-03T00:00:00.000Z' });
    expect(store.reviewItems({ pending: true }).map((i) => i.id)).toEqual([other]);
    expect(store.reviewItems().find((i) => i.id === id)).toEqual({
      ...item,
      id,
      verdicts: [
        { itemId: id, verdict: 'edited', final: { action: 'refund' }, reviewer: 'ana', at: '2026-01-02T00:00:00.000Z' },
        { itemId: id, verdict: 'rejected', reason: 'wrong customer', reviewer: 'bo', at: '2026-01-03T00:00:00.000Z' },
      ],
    });
    expect(() => store.addVerdict({ itemId: 999, verdict: 'accepted', reviewer: 'x', at: 'now' })).toThrow(StoreError);
  });

  it('hands two review sessions different pending items, hands a claim back to its session, and lets another take a released or stale one', () => {
    store.createRun(aRun());
    const item = (traceId: string) => ({ runId: 'run-1', traceId, trial: 0, workflow: 'w', phase: 'suggest', input: null, steps: [], suggestion: null, reference: null, enqueuedAt: '2026-01-01T00:00:00.000Z' });
    const [a, b, c] = ['t-1', 't-2', 't-3'].map((t) => store.enqueueReview(item(t))) as [number, number, number];
    const at = '2026-01-01T01:00:00.000Z';
    const staleBefore = '2026-01-01T00:30:00.000Z';
    // A session is named after its reviewer here (the sessions of one name are the next test's).
    const claim = (session: string, after?: number, when = at) => store.claimReview({ session, reviewer: session, at: when, staleBefore, after })?.id;
    expect(claim('ana')).toBe(a);
    expect(claim('bo')).toBe(b);
    expect(claim('ana')).toBe(a); // her own claim, handed back
    expect(claim('ana', a)).toBe(c); // walking forward past a
    expect(claim('cy')).toBeUndefined(); // all three are held
    store.releaseReview(a, 'bo'); // not bo's: nothing
    expect(claim('cy')).toBeUndefined();
    store.releaseReview(a, 'ana');
    expect(claim('cy')).toBe(a);
    store.addVerdict({ itemId: a, verdict: 'accepted', reviewer: 'cy', at });
    expect(claim('cy')).toBeUndefined(); // a has a verdict; b and c are held
    // bo's claim on b was made long ago: stale, so another may take it.
    store.releaseReview(b, 'bo');
    expect(claim('bo', undefined, '2026-01-01T00:00:00.000Z')).toBe(b);
    expect(store.claimReview({ session: 'dee', reviewer: 'dee', at, staleBefore, runId: 'run-1' })?.traceId).toBe('t-2');
    expect(store.claimReview({ session: 'eve', reviewer: 'eve', at, staleBefore, runId: 'other' })).toBeUndefined();
  });

  it('never hands two sessions of the same reviewer name the same item, and releases only the holding session\'s claim', () => {
    store.createRun(aRun());
    const ids = ['t-1', 't-2', 't-3', 't-4'].map((traceId) =>
      store.enqueueReview({ runId: 'run-1', traceId, trial: 0, workflow: 'w', phase: 'suggest', input: null, steps: [], suggestion: null, reference: null, enqueuedAt: '2026-01-01T00:00:00.000Z' }),
    );
    const at = '2026-01-01T01:00:00.000Z';
    const staleBefore = '2026-01-01T00:30:00.000Z';
    const claim = (session: string, after?: number) => store.claimReview({ session, reviewer: 'reviewer', at, staleBefore, after })?.id;
    const got = { one: [] as number[], two: [] as number[] };
    // Interleaved, as two terminals would: each walks forward from its last item.
    for (let i = 0; i < ids.length; i++) {
      const who = i % 2 === 0 ? 'one' : 'two';
      const id = claim(`session-${who}`, got[who].at(-1));
      if (id !== undefined) got[who].push(id);
    }
    expect(got.one.filter((id) => got.two.includes(id))).toEqual([]);
    expect([...got.one, ...got.two].sort((x, y) => x - y)).toEqual(ids);
    expect(claim('session-one')).toBe(got.one[0]); // its own, handed back to it
    expect(claim('session-three')).toBeUndefined(); // same name, another session: all held
    store.releaseReview(got.one[0]!, 'session-two'); // the same name's other session: nothing
    expect(claim('session-three')).toBeUndefined();
    store.releaseReview(got.one[0]!, 'session-one');
    expect(claim('session-three')).toBe(got.one[0]);
  });

  it('tells whether a result is stored', () => {
    store.createRun(aRun());
    append(store, 'run-1', aResult('t-1'));
    expect(store.hasResult('run-1', 't-1#0')).toBe(true);
    expect(store.hasResult('run-1', 't-2#0')).toBe(false);
    expect(store.hasResult('nope', 't-1#0')).toBe(false);
  });

  it('throws a StoreError when appending to an unknown run', () => {
    expect(() => append(store, 'nope', aResult('t-1'))).toThrow(StoreError);
  });

  it('does not let callers mutate stored results', () => {
    store.createRun(aRun());
    const result = aResult('t-1');
    append(store, 'run-1', result);
    result.reference.tools.push('mutated');
    const [read] = [...store.results('run-1')];
    read?.reference.tools.push('mutated too');
    expect([...store.results('run-1')]).toEqual([aResult('t-1')]);
  });

  it('refuses writes while a results() iteration is open, and allows them after', () => {
    store.createRun(aRun());
    append(store, 'run-1', aResult('t-1'));
    append(store, 'run-1', aResult('t-2'));
    const iterator = store.results('run-1');
    iterator.next();
    expect(() => append(store, 'run-1', aResult('t-3'))).toThrow(StoreError);
    iterator.return?.();
    append(store, 'run-1', aResult('t-3'));
    expect(store.countResults('run-1')).toBe(3);
  });

  it('stores the summary and finish time of a finished run', () => {
    store.createRun(aRun());
    const summary = { counts: { completed: 3 }, gate: { pass: true } };
    store.finishRun('run-1', '2025-01-01T00:05:00.000Z', summary);
    expect(store.getRun('run-1')).toEqual({ ...aRun(), shard: null, tracesHash: null, finishedAt: '2025-01-01T00:05:00.000Z', summary });
  });

  it('throws a StoreError when finishing an unknown run', () => {
    expect(() => store.finishRun('nope', '2025-01-01T00:05:00.000Z', {})).toThrow(StoreError);
  });

  it('lists runs newest first, with a suite filter and a limit', () => {
    store.createRun(aRun({ runId: 'old', startedAt: '2025-01-01T00:00:00.000Z' }));
    store.createRun(aRun({ runId: 'new', startedAt: '2025-01-03T00:00:00.000Z' }));
    store.createRun(aRun({ runId: 'other', suite: 'other', startedAt: '2025-01-02T00:00:00.000Z' }));
    // Same start time as 'new': the one created later comes first.
    store.createRun(aRun({ runId: 'new-2', startedAt: '2025-01-03T00:00:00.000Z' }));
    const ids = (options?: { suite?: string; limit?: number }) => store.listRuns(options).map((r) => r.runId);

    expect(ids()).toEqual(['new-2', 'new', 'other', 'old']);
    expect(ids({ suite: 'refund-triage' })).toEqual(['new-2', 'new', 'old']);
    expect(ids({ suite: 'refund-triage', limit: 2 })).toEqual(['new-2', 'new']);
    expect(ids({ suite: 'missing' })).toEqual([]);
    expect(store.listRuns({ limit: 1 })).toEqual([
      { ...aRun({ runId: 'new-2', startedAt: '2025-01-03T00:00:00.000Z' }), shard: null, tracesHash: null, finishedAt: null, summary: null },
    ]);
  });

  it('returns undefined for an unknown run and nothing for its results', () => {
    expect(store.getRun('nope')).toBeUndefined();
    expect([...store.results('nope')]).toEqual([]);
    expect(store.resultKeys('nope')).toEqual(new Set());
    expect(store.countResults('nope')).toBe(0);
  });

  describe('the run lease', () => {
    const lease = (token: string, heartbeatAt = '2025-01-01T00:00:10.000Z') => ({ token, pid: 4242, host: 'host-a', heartbeatAt });
    const staleBefore = '2025-01-01T00:00:00.000Z';

    it('is free on a new run, taken by the first taker, and refused to a second while its heartbeat is fresh', () => {
      store.createRun(aRun());
      expect(store.getLease('run-1')).toBeNull();
      expect(store.acquireLease('run-1', lease('a'), { staleBefore })).toEqual(lease('a'));
      expect(store.acquireLease('run-1', lease('b'), { staleBefore })).toEqual(lease('a'));
      expect(store.getLease('run-1')).toEqual(lease('a'));
    });

    it('is taken over when its heartbeat is older than staleBefore, or when the taker names its token as a dead holder', () => {
      store.createRun(aRun());
      store.acquireLease('run-1', lease('a', '2024-12-31T23:59:59.000Z'), { staleBefore });
      expect(store.acquireLease('run-1', lease('b'), { staleBefore }).token).toBe('b');
      expect(store.acquireLease('run-1', lease('c'), { staleBefore, replacing: 'a' }).token).toBe('b');
      expect(store.acquireLease('run-1', lease('c'), { staleBefore, replacing: 'b' }).token).toBe('c');
    });

    it('renews the heartbeat of its holder only, and is free again once released by its holder', () => {
      store.createRun(aRun());
      store.acquireLease('run-1', lease('a'), { staleBefore });
      expect(store.renewLease('run-1', 'b', '2025-01-01T00:00:20.000Z')).toBe(false);
      expect(store.renewLease('run-1', 'a', '2025-01-01T00:00:20.000Z')).toBe(true);
      expect(store.getLease('run-1')?.heartbeatAt).toBe('2025-01-01T00:00:20.000Z');
      store.releaseLease('run-1', 'b');
      expect(store.getLease('run-1')?.token).toBe('a');
      store.releaseLease('run-1', 'a');
      expect(store.getLease('run-1')).toBeNull();
      expect(store.acquireLease('run-1', lease('b'), { staleBefore }).token).toBe('b');
    });

    it('keeps the leases of runs apart, and refuses to lease an unknown run', () => {
      store.createRun(aRun());
      store.createRun(aRun({ runId: 'run-2' }));
      store.acquireLease('run-1', lease('a'), { staleBefore });
      expect(store.acquireLease('run-2', lease('b'), { staleBefore }).token).toBe('b');
      expect(() => store.acquireLease('run-3', lease('c'), { staleBefore })).toThrow(StoreError);
    });

    it('writes a group or finishes a run with a token only while that token holds the lease: otherwise a LeaseLostError and nothing kept', () => {
      store.createRun(aRun());
      store.acquireLease('run-1', lease('a', '2024-12-31T23:59:59.000Z'), { staleBefore });
      expect(store.appendResults('run-1', [{ key: resultKey('t-1', 0), result: aResult('t-1') }], 'a')).toEqual([null]);
      store.acquireLease('run-1', lease('b'), { staleBefore });
      expect(() => store.appendResults('run-1', [{ key: resultKey('t-2', 0), result: aResult('t-2') }], 'a')).toThrow(LeaseLostError);
      expect(() => store.finishRun('run-1', '2025-01-01T00:05:00.000Z', {}, 'a')).toThrow(/pid 4242 on host host-a/);
      expect([...store.resultKeys('run-1')]).toEqual([resultKey('t-1', 0)]);
      expect(store.getRun('run-1')?.finishedAt).toBeNull();
      store.finishRun('run-1', '2025-01-01T00:05:00.000Z', {}, 'b');
      expect(store.getRun('run-1')?.finishedAt).toBe('2025-01-01T00:05:00.000Z');
    });
  });

  describe('the shards of a run', () => {
    const lease = (token: string, heartbeatAt = '2025-01-01T00:00:10.000Z') => ({ token, pid: 4242, host: 'host-a', heartbeatAt });
    const staleBefore = '2025-01-01T00:00:00.000Z';
    const start = (index: number, startedAt = '2025-01-01T00:00:01.000Z') => store.startShard({ runId: 'run-1', index, count: 3, startedAt });

    it('records each shard once, by index, and keeps the first start of a shard started again (a resume)', () => {
      store.createRun(aRun());
      expect(store.listShards('run-1')).toEqual([]);
      start(2);
      start(1, '2025-01-01T00:00:02.000Z');
      start(2, '2025-01-01T00:09:00.000Z');
      expect(store.listShards('run-1')).toEqual([
        { runId: 'run-1', index: 1, count: 3, startedAt: '2025-01-01T00:00:02.000Z', finishedAt: null, summary: null },
        { runId: 'run-1', index: 2, count: 3, startedAt: '2025-01-01T00:00:01.000Z', finishedAt: null, summary: null },
      ]);
      expect(() => store.startShard({ runId: 'run-9', index: 1, count: 3, startedAt: staleBefore })).toThrow(StoreError);
    });

    it('leases each shard apart from the others and from the run: one holder per shard, shards of one run at once', () => {
      store.createRun(aRun());
      start(1);
      start(2);
      expect(store.acquireLease('run-1', lease('a'), { staleBefore }, 1).token).toBe('a');
      expect(store.acquireLease('run-1', lease('b'), { staleBefore }, 1).token).toBe('a');
      expect(store.acquireLease('run-1', lease('b'), { staleBefore }, 2).token).toBe('b');
      expect(store.getLease('run-1')).toBeNull();
      expect(store.getLease('run-1', 2)?.token).toBe('b');
      expect(store.renewLease('run-1', 'a', '2025-01-01T00:00:20.000Z', 2)).toBe(false);
      expect(store.renewLease('run-1', 'a', '2025-01-01T00:00:20.000Z', 1)).toBe(true);
      store.releaseLease('run-1', 'a', 1);
      expect(store.getLease('run-1', 1)).toBeNull();
      expect(store.getLease('run-1', 2)?.token).toBe('b');
      expect(() => store.acquireLease('run-1', lease('c'), { staleBefore }, 3)).toThrow(/shard 3 of run run-1/);
    });

    it('writes a shard\'s groups and finishes it only while its token holds the shard\'s lease', () => {
      store.createRun(aRun());
      start(1);
      start(2);
      store.acquireLease('run-1', lease('a', '2024-12-31T23:59:59.000Z'), { staleBefore }, 1);
      store.acquireLease('run-1', lease('b'), { staleBefore }, 2);
      expect(store.appendResults('run-1', [{ key: resultKey('t-1', 0), result: aResult('t-1') }], 'a')).toEqual([null]);
      expect(store.appendResults('run-1', [{ key: resultKey('t-2', 0), result: aResult('t-2') }], 'b')).toEqual([null]);
      // Shard 1's silent holder is taken over: its token writes nothing more.
      store.acquireLease('run-1', lease('c'), { staleBefore }, 1);
      expect(() => store.appendResults('run-1', [{ key: resultKey('t-3', 0), result: aResult('t-3') }], 'a')).toThrow(LeaseLostError);
      expect(() => store.finishShard('run-1', 1, '2025-01-01T00:05:00.000Z', { n: 1 }, 'a')).toThrow(LeaseLostError);
      store.finishShard('run-1', 1, '2025-01-01T00:05:00.000Z', { n: 1 }, 'c');
      expect([...store.resultKeys('run-1')].sort()).toEqual([resultKey('t-1', 0), resultKey('t-2', 0)]);
      expect(store.listShards('run-1').map((s) => [s.index, s.finishedAt, s.summary])).toEqual([
        [1, '2025-01-01T00:05:00.000Z', { n: 1 }],
        [2, null, null],
      ]);
      expect(() => store.finishShard('run-1', 3, '2025-01-01T00:05:00.000Z', {})).toThrow(/shard 3 of run run-1/);
      expect(store.getRun('run-1')?.finishedAt).toBeNull();
    });
  });

  it('caches model exchanges by key, replacing an entry stored again under the same key', () => {
    const exchange = {
      key: 'k1',
      request: { method: 'POST', url: 'https://api.example/v1/chat/completions', body: { model: 'm', messages: [] } },
      response: { status: 200, body: '{"id":"a"}' },
    };
    expect(store.getExchange('k1')).toBeUndefined();
    store.putExchange(exchange);
    expect(store.getExchange('k1')).toEqual(exchange);
    store.putExchange({ ...exchange, response: { status: 200, body: '{"id":"b"}' } });
    expect(store.getExchange('k1')?.response.body).toBe('{"id":"b"}');
    expect(store.getExchange('k2')).toBeUndefined();
  });
});

describe('SQLite store on a file', () => {
  const dbFile = () => join(tempDir(), 'shadowgate.db');

  it('reads a stored result that is not JSON as a StoreError naming the file, the run and the trace', () => {
    const file = dbFile();
    const store = createSqliteStore(file);
    store.createRun(aRun());
    for (const id of ['t-1', 't-2']) append(store, 'run-1', aResult(id));
    const db = new Database(file);
    db.prepare("UPDATE results SET result_json = '{bad' WHERE trace_id = 't-2'").run();
    db.close();
    try {
      for (const error of readFailures(store)) {
        expect(error).toBeInstanceOf(StoreError);
        expect((error as Error).message).toBe(`${file}: the stored result of trace t-2 in run run-1 is not valid JSON (at character 1)`);
      }
      expect(store.resultsOfTrace('run-1', 't-1')).toEqual([aResult('t-1')]);
    } finally {
      store.close();
    }
  });
  const appliedMigrations = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version').all();
    } finally {
      db.close();
    }
  };

  it('keeps runs and results across close and reopen', () => {
    const first = createSqliteStore(dbFile());
    first.createRun(aRun());
    append(first, 'run-1', aResult('t-1'));
    append(first, 'run-1', aResult('t-2'));
    first.finishRun('run-1', '2025-01-01T00:05:00.000Z', { ok: true });
    first.close();

    const second = createSqliteStore(dbFile());
    try {
      expect(second.getRun('run-1')).toEqual({
        ...aRun(),
        shard: null,
        tracesHash: null,
        finishedAt: '2025-01-01T00:05:00.000Z',
        summary: { ok: true },
      });
      expect([...second.results('run-1')]).toEqual([aResult('t-1'), aResult('t-2')]);
    } finally {
      second.close();
    }
  });

  it('records migrations and does not apply them again on reopen', () => {
    createSqliteStore(dbFile()).close();
    const applied = appliedMigrations(dbFile());
    expect(applied).toEqual(
      migrations.map(({ version, name }) => ({ version, name, appliedAt: expect.any(String) as unknown })),
    );

    createSqliteStore(dbFile()).close();
    expect(appliedMigrations(dbFile())).toEqual(applied);
  });

  it('migrates a store made before runs were marked as replicas: rows kept, A/A runs found by their label', () => {
    const db = new Database(dbFile());
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const replica = migrations.find((m) => m.name === 'run-replica')!;
    const before = migrations.filter((m) => m.version < replica.version);
    for (const step of before) {
      db.exec(step.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(step.version, step.name, '2025-01-01T00:00:00.000Z');
    }
    const insert = db.prepare(`INSERT INTO runs (run_id, suite, suite_file, suite_hash, candidate_hash, candidate, phase, reference, started_at, finished_at)
      VALUES (?, 's', 's.yaml', 'h', 'c', ?, 'shadow', 'human', '2025-01-01T00:00:00.000Z', '2025-01-01T00:01:00.000Z')`);
    const labels = { own: 'module:a.mjs', aa: 'module:a.mjs (A/A)', aa1: 'module:a.mjs (A/A 1)', aa2: 'module:a.mjs (A/A 2)', named: 'A/A' };
    for (const [id, label] of Object.entries(labels)) insert.run(id, label);
    db.close();

    const store = createSqliteStore(dbFile());
    try {
      const replicas = Object.fromEntries(Object.keys(labels).map((id) => [id, store.getRun(id)!.replica]));
      expect(replicas).toEqual({ own: 0, aa: 1, aa1: 1, aa2: 2, named: 0 });
      expect(store.listRuns().filter(isEvidenceRun).map((r) => r.runId).sort()).toEqual(['named', 'own']);
    } finally {
      store.close();
    }
  });

  it('gives a run lease to the first of two connections, and tells the second who holds it', () => {
    const first = createSqliteStore(dbFile());
    const second = createSqliteStore(dbFile());
    try {
      first.createRun(aRun());
      const staleBefore = '2025-01-01T00:00:00.000Z';
      const a = first.acquireLease('run-1', { token: 'a', pid: 1, host: 'h', heartbeatAt: '2025-01-01T00:00:10.000Z' }, { staleBefore });
      const b = second.acquireLease('run-1', { token: 'b', pid: 2, host: 'h', heartbeatAt: '2025-01-01T00:00:10.000Z' }, { staleBefore });
      expect([a.token, b.token]).toEqual(['a', 'a']);
      expect(second.getLease('run-1')).toEqual(a);
    } finally {
      first.close();
      second.close();
    }
  });

  it('gives a shard\'s lease to the first of two connections, while another shard of the run is leased by the second', () => {
    const first = createSqliteStore(dbFile());
    const second = createSqliteStore(dbFile());
    try {
      first.createRun(aRun());
      for (const index of [1, 2]) first.startShard({ runId: 'run-1', index, count: 2, startedAt: '2025-01-01T00:00:01.000Z' });
      const staleBefore = '2025-01-01T00:00:00.000Z';
      const held = (token: string) => ({ token, pid: 1, host: 'h', heartbeatAt: '2025-01-01T00:00:10.000Z' });
      expect(first.acquireLease('run-1', held('a'), { staleBefore }, 1).token).toBe('a');
      expect(second.acquireLease('run-1', held('b'), { staleBefore }, 1).token).toBe('a');
      expect(second.acquireLease('run-1', held('b'), { staleBefore }, 2).token).toBe('b');
    } finally {
      first.close();
      second.close();
    }
  });

  it('uses WAL journaling', () => {
    const store = createSqliteStore(dbFile());
    try {
      const db = new Database(dbFile(), { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    } finally {
      store.close();
    }
  });

  it('refuses a database from a newer shadowgate with a StoreError and a hint', () => {
    createSqliteStore(dbFile()).close();
    const db = new Database(dbFile());
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      9999,
      'from-the-future',
      '2030-01-01T00:00:00.000Z',
    );
    db.close();

    let caught: unknown;
    try {
      createSqliteStore(dbFile());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).message).toMatch(/schema version 9999/);
    expect((caught as StoreError).hint).toBeTruthy();
  });

  describe('groups committed off the calling thread (appendResultsLater)', () => {
    const entries = (...results: TraceResult[]) => results.map((result) => ({ key: resultKey(result.traceId, result.trial), result }));
    const outcomeNames = (outcomes: (Error | null)[]) => outcomes.map((o) => (o === null ? 'stored' : o instanceof DuplicateResultError ? 'duplicate' : o.name));

    it('commits each group in order with the outcomes appendResults gives, readable once its promise resolved', async () => {
      const store = createSqliteStore(dbFile());
      try {
        store.createRun(aRun());
        const first = store.appendResultsLater!('run-1', entries(aResult('t-1'), aResult('t-2')));
        const second = store.appendResultsLater!('run-1', entries(aResult('t-1', 0, { status: 'error' }), aResult('t-4', 0, { decision: { amount: 10n } }), aResult('t-3')));
        expect(outcomeNames(await first)).toEqual(['stored', 'stored']);
        expect(outcomeNames(await second)).toEqual(['duplicate', 'TypeError', 'stored']);
        expect([...store.results('run-1')]).toEqual([aResult('t-1'), aResult('t-2'), aResult('t-3')]);
      } finally {
        store.close();
      }
    });

    it('closes the writer connection with the store: nothing is left open on the file', async () => {
      const file = dbFile();
      const store = createSqliteStore(file);
      store.createRun(aRun());
      await store.appendResultsLater!('run-1', entries(aResult('t-1')));
      expect(existsSync(`${file}-wal`)).toBe(true);
      store.close();
      // The last connection to close removes the WAL file: a connection left open would keep it.
      expect(existsSync(`${file}-wal`)).toBe(false);
      const reopened = createSqliteStore(file);
      expect([...reopened.results('run-1')]).toEqual([aResult('t-1')]);
      reopened.close();
    });

    it('answers, on close, every group handed over before it: each committed and resolved', async () => {
      const file = dbFile();
      const store = createSqliteStore(file);
      store.createRun(aRun());
      const groups = [0, 1, 2, 3, 4].map((g) => store.appendResultsLater!('run-1', entries(...[0, 1, 2].map((i) => aResult(`t-${g}-${i}`)))));
      store.close();
      expect(await Promise.all(groups)).toEqual(groups.map(() => [null, null, null]));
      const reopened = createSqliteStore(file);
      expect(reopened.countResults('run-1')).toBe(15);
      reopened.close();
    });

    it('rejects a group whose lease was taken with a LeaseLostError naming the holder, and keeps nothing of it', async () => {
      const store = createSqliteStore(dbFile());
      const lease = (token: string, heartbeatAt = '2025-01-01T00:00:10.000Z') => ({ token, pid: 4242, host: 'host-a', heartbeatAt });
      const staleBefore = '2025-01-01T00:00:00.000Z';
      try {
        store.createRun(aRun());
        store.acquireLease('run-1', lease('a', '2024-12-31T23:59:59.000Z'), { staleBefore });
        expect(await store.appendResultsLater!('run-1', entries(aResult('t-1')), 'a')).toEqual([null]);
        store.acquireLease('run-1', lease('b'), { staleBefore });
        const lost = store.appendResultsLater!('run-1', entries(aResult('t-2')), 'a');
        await expect(lost).rejects.toBeInstanceOf(LeaseLostError);
        await expect(lost).rejects.toThrow(/held by pid 4242 on host host-a/);
        expect([...store.resultKeys('run-1')]).toEqual([resultKey('t-1', 0)]);
      } finally {
        store.close();
      }
    });

    it('rejects a group on a database another connection holds locked with the StoreError and --db hint appendResults gives', async () => {
      const store = createSqliteStore(dbFile(), { busyTimeoutMs: 50 });
      store.createRun(aRun());
      const other = new Database(dbFile());
      other.exec('BEGIN IMMEDIATE');
      try {
        const locked = store.appendResultsLater!('run-1', entries(aResult('t-1')));
        await expect(locked).rejects.toBeInstanceOf(StoreError);
        await expect(locked).rejects.toMatchObject({ hint: `another shadowgate process holds ${dbFile()}; pass --db or retry` });
      } finally {
        other.exec('ROLLBACK');
        other.close();
        store.close();
      }
      expect(createSqliteStore(':memory:').appendResultsLater).toBeUndefined();
    });
  });

  it('reports a database locked by another connection as a StoreError with the --db hint', () => {
    // A short wait keeps the test fast; the default is 5 s.
    const store = createSqliteStore(dbFile(), { busyTimeoutMs: 50 });
    store.createRun(aRun());
    const other = new Database(dbFile());
    other.exec('BEGIN IMMEDIATE');
    try {
      let caught: unknown;
      try {
        append(store, 'run-1', aResult('t-1'));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreError);
      expect((caught as StoreError).hint).toBe(`another shadowgate process holds ${dbFile()}; pass --db or retry`);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      store.close();
    }
  });
});

describe('PostgreSQL store', () => {
  const schema = pgSchema();
  afterEach(() => dropSchema(schema));

  it('reads a stored result that is not JSON as a StoreError naming the server without its password, the run and the trace', async () => {
    const store = createPostgresStore(testPgUrl(), { schema });
    try {
      store.createRun(aRun());
      for (const id of ['t-1', 't-2']) append(store, 'run-1', aResult(id));
      await pgQuery(`UPDATE ${schema}.results SET result_json = '{bad' WHERE trace_id = 't-2'`);
      const url = new URL(testPgUrl());
      for (const error of readFailures(store)) {
        expect(error).toBeInstanceOf(StoreError);
        expect((error as Error).message).toBe(`postgres://***@${url.host}${url.pathname}: the stored result of trace t-2 in run run-1 is not valid JSON (at character 1)`);
      }
    } finally {
      store.close();
    }
  });

  it('records its migrations, numbered as SQLite\'s, keeps its rows across reopen, and applies nothing again', async () => {
    const first = createPostgresStore(testPgUrl(), { schema });
    first.createRun(aRun());
    append(first, 'run-1', aResult('t-1'));
    first.close();
    const applied = async () => {
      const client = new pg.Client({ connectionString: testPgUrl() });
      await client.connect();
      try {
        return (await client.query(`SELECT version, name, applied_at FROM ${schema}.schema_migrations ORDER BY version`)).rows;
      } finally {
        await client.end();
      }
    };
    const before = await applied();
    expect(before.map(({ version, name }) => ({ version, name }))).toEqual(pgMigrations.map(({ version, name }) => ({ version, name })));
    expect(pgMigrations.map(({ version, name }) => ({ version, name }))).toEqual(migrations.map(({ version, name }) => ({ version, name })));
    const second = createPostgresStore(testPgUrl(), { schema });
    try {
      expect([...second.results('run-1')]).toEqual([aResult('t-1')]);
    } finally {
      second.close();
    }
    expect(await applied()).toEqual(before);
  });

  it.each([
    ['two reviewers', 'ana', 'bo'],
    ['two sessions of one reviewer name', 'reviewer', 'reviewer'],
  ])('never hands %s claiming at once, from two processes, the same item', async (_, first, second) => {
    const setup = createPostgresStore(testPgUrl(), { schema });
    setup.createRun(aRun());
    const ids = Array.from({ length: 60 }, (_, i) => setup.enqueueReview({ runId: 'run-1', traceId: `t-${i}`, trial: 0, workflow: 'w', phase: 'suggest', input: null, steps: [], suggestion: null, reference: null, enqueuedAt: '2026-01-01T00:00:00.000Z' }));
    setup.close();
    // Each process claims until nothing is left, never giving a verdict: only the claims keep them apart.
    const script = `
      const { createPostgresStore } = await import(${JSON.stringify(new URL('../../dist/store/postgres.js', import.meta.url).href)});
      const store = createPostgresStore(process.argv[1], { schema: process.argv[2] });
      const got = [];
      let after = 0;
      for (let item; (item = store.claimReview({ session: process.argv[4], reviewer: process.argv[3], at: new Date().toISOString(), staleBefore: '2000-01-01T00:00:00.000Z', after })); after = item.id) got.push(item.id);
      store.close();
      console.log(JSON.stringify(got));`;
    const claimer = (reviewer: string, session: string) =>
      new Promise<number[]>((done, fail) => {
        execFile(process.execPath, ['--input-type=module', '-e', script, testPgUrl(), schema, reviewer, session], { timeout: 20_000 }, (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stdout}\n${stderr}`)) : done(JSON.parse(stdout) as number[])));
      });
    const [ana, bo] = await Promise.all([claimer(first, 'session-1'), claimer(second, 'session-2')]);
    expect(ana.filter((id) => bo.includes(id))).toEqual([]);
    expect([...ana, ...bo].sort((x, y) => x - y)).toEqual(ids);
  });

  it('fails to open an unreachable server with a StoreError naming it without its password', () => {
    const password = 'made-up-pass-91f3';
    let error: unknown;
    try {
      createPostgresStore(`postgres://someone:${password}@127.0.0.1:1/nowhere`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/^postgres:\/\/\*\*\*@127\.0\.0\.1:1\/nowhere: /);
    expect(JSON.stringify({ message: (error as Error).message, hint: (error as StoreError).hint })).not.toContain(password);
  });
});
