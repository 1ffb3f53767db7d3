import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaseLostError, StoreError } from '../errors.js';
import { describeLease, type RunLease, type Store } from '../store/types.js';

/**
 * How long a lease's heartbeat may stay quiet before another process takes the run over.
 * @default 15000
 */
export const DEFAULT_LEASE_TIMEOUT_MS = 15_000;

export interface LeaseOptions {
  /** A holder silent this long is taken over. @default DEFAULT_LEASE_TIMEOUT_MS */
  timeoutMs?: number;
  /** How often the holder says it is alive. @default a third of timeoutMs, at most 5 s */
  heartbeatMs?: number;
  pid?: number;
  host?: string;
  /** Real time: a lease is about processes being alive now, whatever clock the run's records use. */
  now?: () => Date;
  /** Whether a process of this host is alive; false only when it is known to be gone. */
  isAlive?: (pid: number) => boolean;
  /** The lease of this shard (1-based) of the run, rather than the run's own (see Store.startShard). */
  shard?: number;
  /** Called once when the heartbeat finds the lease taken by another process. */
  onLost?: (error: LeaseLostError) => void;
}

/** The lease of a run this process executes. */
export interface HeldLease {
  token: string;
  /** Stops the heartbeat and lets go of the lease (when this process still holds it). */
  release(): void;
}

/** Another process executes the run: refused, naming it (exit 2). */
export class LeaseHeldError extends StoreError {
  readonly holder: RunLease;
  constructor(runId: string, holder: RunLease, timeoutMs: number, shard?: number) {
    super(`${shard === undefined ? '' : `shard ${shard} of `}run ${runId} is being executed by ${describeLease(holder)}`, {
      hint: `one process writes a run${shard === undefined ? '' : "'s shard"} at a time: wait for it to finish, or stop it; a holder that is killed is taken over at once on its own host, and from another host once its heartbeat is ${Math.round(timeoutMs / 1000)} s old`,
    });
    this.holder = holder;
  }
}

/**
 * Takes the run's lease (or its shard's, with `options.shard`) for this process and keeps its heartbeat going until released. A lease
 * held by a process of this host that no longer exists, or one whose heartbeat is older than
 * the timeout, is taken over; one held by a live process is refused with a LeaseHeldError.
 * The take-over is one conditional UPDATE in the store, so of two processes racing, one wins.
 */
export function acquireRunLease(store: Store, runId: string, options: LeaseOptions = {}): HeldLease {
  const { timeoutMs = DEFAULT_LEASE_TIMEOUT_MS, pid = process.pid, host = hostname(), now = () => new Date(), isAlive = processAlive } = options;
  const heartbeatMs = options.heartbeatMs ?? Math.min(5000, Math.max(1, Math.floor(timeoutMs / 3)));
  const token = randomBytes(12).toString('hex');
  const staleBefore = () => new Date(now().getTime() - timeoutMs).toISOString();

  const { shard } = options;
  const current = store.getLease(runId, shard);
  const dead = current !== null && current.host === host && current.pid !== pid && !isAlive(current.pid);
  const mine: RunLease = { token, pid, host, heartbeatAt: now().toISOString() };
  const held = store.acquireLease(runId, mine, { staleBefore: staleBefore(), ...(dead ? { replacing: current.token } : {}) }, shard);
  if (held.token !== token) throw new LeaseHeldError(runId, held, timeoutMs, shard);

  let released = false;
  const timer = setInterval(() => {
    let holder: RunLease | null;
    try {
      if (store.renewLease(runId, token, now().toISOString(), shard)) return;
      holder = store.getLease(runId, shard);
    } catch {
      return; // a busy store: the next beat tries again, well within the timeout
    }
    clearInterval(timer);
    if (!released) options.onLost?.(new LeaseLostError(runId, holder ? describeLease(holder) : 'no one'));
  }, heartbeatMs);
  // The heartbeat alone must not keep a finished process waiting.
  timer.unref();
  return {
    token,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        store.releaseLease(runId, token, shard);
      } catch {
        // A lease not let go is taken over anyway once this process is gone or its heartbeat is old.
      }
    },
  };
}

/** `kill(pid, 0)` sends nothing and fails with ESRCH only when there is no such process (EPERM: it exists, as another user's). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
