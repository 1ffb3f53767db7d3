import type { TraceResult } from '../replay/types.js';
import type { AppendOutcome, Store } from '../store/types.js';

/**
 * When finished results are committed to the store: in groups, one transaction each, once
 * `results` are waiting or the first of them has waited `ms`, whichever comes first. A killed
 * run loses at most the group being gathered (what `--resume` then runs again); a commit
 * per result would cost a transaction per result.
 */
export interface CommitPolicy {
  /** @default 500 */
  results: number;
  /** @default 100 */
  ms: number;
}

export const DEFAULT_COMMIT: CommitPolicy = { results: 500, ms: 100 };

/** Groups handed to a store that commits off the run's thread and not yet durable, at most, before the run waits (see `room`). */
export const MAX_HANDED = 2;

export interface PendingResult<T> {
  key: string;
  result: TraceResult;
  /** What the caller needs again once the result is committed (its trace, its source line). */
  context: T;
}

/**
 * Gathers a run's results and commits them in groups. `committed` is called for each result
 * of a group, in order, once the group's transaction has returned, with that result's outcome:
 * nothing is reported done before it is durable. A failure of the store is kept and thrown by
 * the next `add` or `flush`, since a timer's commit (or a commit off this thread) has no caller
 * to throw to.
 */
export function createResultWriter<T>(
  store: Pick<Store, 'appendResults' | 'appendResultsLater'>,
  runId: string,
  policy: CommitPolicy,
  committed: (pending: PendingResult<T>, outcome: AppendOutcome) => void,
) {
  let group: PendingResult<T>[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failure: unknown;
  /** The groups handed to a store that commits off this thread, reported in order as each is durable. */
  let writing: Promise<void> = Promise.resolve();
  /** How many of them are not reported yet, and who waits for fewer (see `room`). */
  let handed = 0;
  const waiters: (() => void)[] = [];

  const report = (batch: PendingResult<T>[], outcomes: AppendOutcome[]) => batch.forEach((pending, i) => committed(pending, outcomes[i] ?? null));
  const commit = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (group.length === 0) return;
    const batch = group;
    group = [];
    if (store.appendResultsLater) {
      // Handed over now (the store commits groups in the order given); reported once durable, after the groups before it.
      const durable = store.appendResultsLater(runId, batch);
      durable.catch(() => {}); // handled below, in its turn: not an unhandled rejection meanwhile
      handed++;
      writing = writing
        .then(() => durable)
        .then((outcomes) => report(batch, outcomes))
        .catch((error: unknown) => void (failure ??= error))
        .finally(() => {
          handed--;
          for (const wake of waiters.splice(0)) wake();
        });
      return;
    }
    report(batch, store.appendResults(runId, batch));
  };
  const commitLater = (): void => {
    try {
      commit();
    } catch (error) {
      failure ??= error;
    }
  };
  const rethrow = (): void => {
    if (failure !== undefined) throw failure;
  };

  return {
    add(pending: PendingResult<T>): void {
      rethrow();
      group.push(pending);
      if (group.length >= policy.results) commit();
      else timer ??= setTimeout(commitLater, policy.ms);
    },
    /**
     * With a store that commits off this thread: a promise to wait on while MAX_HANDED groups are
     * handed over and not yet durable (the caller starts no more traces meanwhile, so that a slow
     * or locked store holds back the run rather than its results piling up; those in flight still
     * finish, and may hand over more groups); else undefined.
     */
    room(): Promise<void> | undefined {
      if (handed < MAX_HANDED || failure !== undefined) return undefined;
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    /** Commits what is waiting now, and resolves once every group is durable and reported. */
    async flush(): Promise<void> {
      rethrow();
      commit();
      await writing;
      rethrow();
    },
  };
}
