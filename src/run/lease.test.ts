import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseLostError } from '../errors.js';
import { createMemoryStore } from '../store/memory.js';
import type { RunMeta, Store } from '../store/types.js';
import { acquireRunLease, LeaseHeldError, type LeaseOptions } from './lease.js';

const meta: RunMeta = {
  runId: 'run-1', suite: 's', suiteFile: 's.yaml', suiteHash: 'h', candidateHash: 'c', candidate: 'module:a.mjs', model: null, promptVersion: null,
  phase: 'shadow', reference: 'human', gitCommit: null, gitRef: null, startedAt: '2026-01-01T10:00:00.000Z', candidateSource: null, replica: 0,
};

describe('acquireRunLease', () => {
  let store: Store;
  let clock: number;
  const at = (pid: number, host: string, extra: Partial<LeaseOptions> = {}): LeaseOptions => ({
    pid, host, timeoutMs: 15_000, heartbeatMs: 5_000, now: () => new Date(clock), isAlive: () => true, ...extra,
  });
  beforeEach(() => {
    vi.useFakeTimers();
    clock = Date.parse('2026-01-01T10:00:00.000Z');
    store = createMemoryStore();
    store.createRun(meta);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a run whose holder is alive, naming its pid, host and last heartbeat', () => {
    acquireRunLease(store, 'run-1', at(100, 'host-a'));
    let refused: unknown;
    try {
      acquireRunLease(store, 'run-1', at(200, 'host-a'));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(LeaseHeldError);
    expect((refused as LeaseHeldError).message).toBe('run run-1 is being executed by pid 100 on host host-a (last heartbeat 2026-01-01T10:00:00.000Z)');
    expect((refused as LeaseHeldError).code).toBe('SG_STORE');
  });

  it('takes over at once from a holder of this host whose process is gone', () => {
    acquireRunLease(store, 'run-1', at(100, 'host-a'));
    const checked: number[] = [];
    const lease = acquireRunLease(store, 'run-1', at(200, 'host-a', { isAlive: (pid) => (checked.push(pid), false) }));
    expect(checked).toEqual([100]);
    expect(store.getLease('run-1')).toMatchObject({ token: lease.token, pid: 200, host: 'host-a' });
  });

  it('cannot tell whether a holder of another host is alive: it is taken over only once silent for the timeout', () => {
    acquireRunLease(store, 'run-1', at(100, 'host-b'));
    const isAlive = vi.fn(() => false);
    clock += 14_999;
    expect(() => acquireRunLease(store, 'run-1', at(200, 'host-a', { isAlive }))).toThrow(LeaseHeldError);
    clock += 2;
    expect(() => acquireRunLease(store, 'run-1', at(200, 'host-a', { isAlive }))).not.toThrow();
    expect(isAlive).not.toHaveBeenCalled();
  });

  it('keeps a live holder by its heartbeat, and takes over a silent one (a stopped process) after the timeout', () => {
    acquireRunLease(store, 'run-1', at(100, 'host-a'));
    // Heartbeats every 5 s keep it held, however long it runs.
    for (let i = 0; i < 6; i++) {
      clock += 5_000;
      vi.advanceTimersByTime(5_000);
    }
    expect(() => acquireRunLease(store, 'run-1', at(200, 'host-a'))).toThrow(/last heartbeat 2026-01-01T10:00:30.000Z/);
    // The holder goes quiet (its timers stop firing), though its process is there.
    vi.clearAllTimers();
    clock += 15_001;
    expect(store.getLease('run-1')?.pid).toBe(100);
    acquireRunLease(store, 'run-1', at(200, 'host-a'));
    expect(store.getLease('run-1')?.pid).toBe(200);
  });

  it('tells the former holder that it lost the run at its next heartbeat', () => {
    const lost: LeaseLostError[] = [];
    acquireRunLease(store, 'run-1', at(100, 'host-b', { onLost: (error) => lost.push(error) }));
    clock += 20_000;
    acquireRunLease(store, 'run-1', at(200, 'host-a'));
    vi.advanceTimersByTime(5_000);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(LeaseLostError);
    expect(lost[0]!.message).toContain('pid 200 on host host-a');
  });

  it('is free again once released, and a release stops the heartbeat', () => {
    const lease = acquireRunLease(store, 'run-1', at(100, 'host-a'));
    lease.release();
    expect(store.getLease('run-1')).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
    acquireRunLease(store, 'run-1', at(200, 'host-a'));
    expect(store.getLease('run-1')?.pid).toBe(200);
  });
});
