import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../errors.js';
import { aResult } from '../testing/builders.js';
import type { AppendOutcome, Store } from '../store/types.js';
import { createResultWriter, type PendingResult } from './result-writer.js';

/** A store that records each group it is given, and fails when told to. */
function aGroupStore() {
  const groups: string[][] = [];
  let failing = false;
  const store: Pick<Store, 'appendResults'> = {
    appendResults(_runId, entries) {
      if (failing) throw new StoreError('disk full');
      groups.push(entries.map((e) => e.key));
      return entries.map((): AppendOutcome => null);
    },
  };
  return { store, groups, fail: () => void (failing = true) };
}

const pending = (id: string): PendingResult<string> => ({ key: `${id}#0`, result: aResult(id), context: id });

describe('createResultWriter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('commits a group once it is full, and reports each result only after its commit', () => {
    const { store, groups } = aGroupStore();
    const done: string[] = [];
    const writer = createResultWriter<string>(store, 'run', { results: 3, ms: 1000 }, (p) => done.push(p.context));
    for (const id of ['a', 'b']) writer.add(pending(id));
    expect([groups, done]).toEqual([[], []]);
    for (const id of ['c', 'd']) writer.add(pending(id));
    expect(groups).toEqual([['a#0', 'b#0', 'c#0']]);
    expect(done).toEqual(['a', 'b', 'c']);
    writer.flush();
    expect(groups).toEqual([['a#0', 'b#0', 'c#0'], ['d#0']]);
  });

  it('commits what waits after `ms`, counted from the first result of the group', () => {
    const { store, groups } = aGroupStore();
    const writer = createResultWriter(store, 'run', { results: 100, ms: 50 }, () => {});
    writer.add(pending('a'));
    vi.advanceTimersByTime(30);
    writer.add(pending('b'));
    expect(groups).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(groups).toEqual([['a#0', 'b#0']]);
    writer.add(pending('c'));
    vi.advanceTimersByTime(49);
    expect(groups).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(groups).toEqual([['a#0', 'b#0'], ['c#0']]);
  });

  it('throws a failed timed commit at the next add, as it had no caller to throw to', async () => {
    const { store, fail } = aGroupStore();
    const writer = createResultWriter(store, 'run', { results: 100, ms: 10 }, () => {});
    writer.add(pending('a'));
    fail();
    vi.advanceTimersByTime(10);
    expect(() => writer.add(pending('b'))).toThrow('disk full');
    await expect(writer.flush()).rejects.toThrow('disk full');
  });

  it('with a store that commits off this thread: hands each group over at once, and reports its results in order, once it is durable', async () => {
    vi.useRealTimers();
    const handed: string[][] = [];
    const durable: (() => void)[] = [];
    const store: Pick<Store, 'appendResults' | 'appendResultsLater'> = {
      appendResults: () => {
        throw new Error('the synchronous path is not taken');
      },
      appendResultsLater(_runId, entries) {
        handed.push(entries.map((e) => e.key));
        return new Promise((resolve) => durable.push(() => resolve(entries.map((): AppendOutcome => null))));
      },
    };
    const done: string[] = [];
    const writer = createResultWriter<string>(store, 'run', { results: 2, ms: 1000 }, (p) => done.push(p.context));
    for (const id of ['a', 'b', 'c', 'd']) writer.add(pending(id));
    expect(handed).toEqual([['a#0', 'b#0'], ['c#0', 'd#0']]);
    durable[1]!(); // the second group is durable first: nothing is reported before the first is
    await new Promise((r) => setTimeout(r, 5));
    expect(done).toEqual([]);
    durable[0]!();
    await new Promise((r) => setTimeout(r, 5));
    expect(done).toEqual(['a', 'b', 'c', 'd']);
    writer.add(pending('e'));
    const flushed = writer.flush();
    expect(handed).toHaveLength(3);
    durable[2]!();
    await flushed;
    expect(done).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('with a store that commits off this thread: has the run wait while two groups are handed over and not yet durable', async () => {
    vi.useRealTimers();
    const durable: (() => void)[] = [];
    const store: Pick<Store, 'appendResults' | 'appendResultsLater'> = {
      appendResults: () => [],
      appendResultsLater: (_runId, entries) => new Promise((resolve) => durable.push(() => resolve(entries.map((): AppendOutcome => null)))),
    };
    const writer = createResultWriter(store, 'run', { results: 1, ms: 1000 }, () => {});
    writer.add(pending('a'));
    expect(writer.room()).toBeUndefined();
    writer.add(pending('b'));
    const room = writer.room();
    expect(room).toBeInstanceOf(Promise);
    let free = false;
    void room!.then(() => (free = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(free).toBe(false);
    durable[0]!();
    await new Promise((r) => setTimeout(r, 5));
    expect(free).toBe(true);
    expect(writer.room()).toBeUndefined();
    durable[1]!();
    await writer.flush();
  });

  it('with a store that commits off this thread: a failed group is thrown by the next add and by flush', async () => {
    vi.useRealTimers();
    const store: Pick<Store, 'appendResults' | 'appendResultsLater'> = {
      appendResults: () => [],
      appendResultsLater: () => Promise.reject(new StoreError('disk full')),
    };
    const writer = createResultWriter(store, 'run', { results: 1, ms: 1000 }, () => {});
    writer.add(pending('a'));
    await new Promise((r) => setTimeout(r, 5));
    expect(() => writer.add(pending('b'))).toThrow('disk full');
    await expect(writer.flush()).rejects.toThrow('disk full');
  });
});
