import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { createSqliteStore } from '../store/sqlite.js';
import { replayTrace, runSuite } from './run.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SUITE = 'suites/refund-triage.yaml';

describe('runSuite', () => {
  it('runs only the traces the filter selects, and returns their results with the metrics', async () => {
    const wanted = new Set(['rt-00001', 'rt-00013', 'rt-00040']);
    const run = await runSuite(SUITE, { cwd: ROOT, filter: (t) => wanted.has(t.id) });
    expect(run.results.map((r) => r.traceId).sort()).toEqual([...wanted].sort());
    expect(run.counts.total).toBe(3);
    expect(run.metrics.agreement.n).toBe(run.results.filter((r) => r.agree !== null).length);
    expect(run.meta).toMatchObject({ suite: 'refund-triage', reference: 'human', candidate: 'module:policy-v1.mjs' });
  });

  it('runs another candidate, and stores the run in a SQLite file when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-vitest-'));
    try {
      const candidate = `module=${join(ROOT, 'fixtures/refund-triage/agents/regression-v2.mjs')}`;
      const run = await runSuite(join(ROOT, SUITE), { cwd: dir, candidate, db: 'runs.db', trials: 2, filter: (t) => t.id === 'rt-00013' });
      expect(run.results.map((r) => [r.traceId, r.trial, r.agree])).toEqual([
        ['rt-00013', 0, false],
        ['rt-00013', 1, false],
      ]);
      const store = createSqliteStore(join(dir, 'runs.db'));
      try {
        expect(store.listRuns({ limit: 5 }).map((r) => [r.runId, r.candidate])).toEqual([[run.meta.runId, candidate]]);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('replayTrace', () => {
  it("returns the one trace's result", async () => {
    const result = await replayTrace(SUITE, 'rt-00013', { cwd: ROOT });
    expect({ traceId: result.traceId, decision: result.decision, agree: result.agree }).toEqual({ traceId: 'rt-00013', decision: { action: 'escalate' }, agree: true });
  });

  it('names the suite when the trace is not there', async () => {
    const error = await replayTrace(SUITE, 'rt-99999', { cwd: ROOT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).message).toBe('no trace rt-99999 in the traces of suites/refund-triage.yaml');
  });
});
