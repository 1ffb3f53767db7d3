import type { Exchange } from '../providers/transport.js';
import type { TraceResult } from '../replay/types.js';

export interface RunMeta {
  runId: string;
  suite: string;
  suiteFile: string;
  suiteHash: string;
  candidateHash: string;
  candidate: string;
  model: string | null;
  promptVersion: string | null;
  phase: string;
  reference: string;
  gitCommit: string | null;
  gitRef: string | null;
  startedAt: string;
  /** The candidate as written and the folder of its paths, to run it again (a noise floor); null for runs made before it was kept. */
  candidateSource: { raw: unknown; dir: string } | null;
  /** 0 for a run of its own; 1 or 2 for an A/A replica that `run --noise-floor` made to measure noise, which is no evidence of its own. */
  replica: number;
}

/** An item waiting for a person: what the candidate suggested on one trace, beside the reference. */
export interface ReviewItem {
  id: number;
  runId: string;
  traceId: string;
  trial: number;
  workflow: string;
  phase: string;
  input: unknown;
  /** The recorded steps of the trace, so that a reviewed item can become a regression trace that replays. */
  steps: unknown[];
  suggestion: unknown;
  reference: unknown;
  enqueuedAt: string;
}

/** What `claimReview` needs: who claims (the session and the person), when (ISO 8601), before when a claim has gone stale, and where to look. */
export interface ReviewClaimOptions {
  /**
   * A random token, one per review session (made when `review` starts): a claim belongs to the
   * session, not to the name, since two terminals may review under the same name at once.
   */
  session: string;
  reviewer: string;
  at: string;
  staleBefore: string;
  runId?: string;
  /** Only items with a greater id (the reviewer walks the queue forward, past what they skipped). */
  after?: number;
}

/** A person's verdict on an item. Verdicts are appended, never changed: the latest one counts. */
export interface ReviewVerdictRecord {
  itemId: number;
  verdict: 'accepted' | 'edited' | 'rejected';
  /** The decision the reviewer settled on (for an edit, the edited one). */
  final?: unknown;
  reason?: string;
  reviewer: string;
  at: string;
}

export interface RunRecord extends RunMeta {
  /**
   * The share of the suite's traces the run runs, as `i/n`: `1/1` for a whole run, `2/3` for shard 2
   * of 3 run on its own (`--shard 2/3` without `--run-id`), so that `--resume` runs that share and
   * no other; null for a run that shards share (its shards are in `listShards`), and for a run
   * stored before the share was kept.
   */
  shard: string | null;
  /** The digest of the trace files the run read (RunSettings.tracesHash); null for a run stored before it was kept. */
  tracesHash: string | null;
  finishedAt: string | null;
  /** The finished run's counts, metrics and gate, as written by finishRun; null while running. */
  summary: unknown;
}

/** Whether a stored run is evidence of its candidate (for phase and drift): finished, and not a noise floor's A/A replica. */
export function isEvidenceRun(run: Pick<RunRecord, 'finishedAt' | 'replica'>): boolean {
  return run.finishedAt !== null && run.replica === 0;
}

/**
 * Who is executing a run: one live writer per run. The holder refreshes `heartbeatAt` while it
 * runs; a lease whose heartbeat has gone quiet, or whose holder is found dead, may be taken over.
 */
export interface RunLease {
  /** Random, one per hold: the writes of the holder carry it, and stop once another holder has taken the run. */
  token: string;
  pid: number;
  host: string;
  /** When the holder last said it is alive (ISO 8601, UTC). */
  heartbeatAt: string;
}

/** A lease's holder in words, for refusals: `pid 4242 on host ci-7 (last heartbeat 2026-01-01T10:00:00.000Z)`. */
export function describeLease(lease: Pick<RunLease, 'pid' | 'host' | 'heartbeatAt'>): string {
  return `pid ${lease.pid} on host ${lease.host} (last heartbeat ${lease.heartbeatAt})`;
}

/**
 * One shard of a run that several processes write into (`run --run-id <id> --shard i/n`): which
 * shard, when it started and finished, and what `finalize` needs of it besides its results.
 */
export interface ShardRecord {
  runId: string;
  /** 1-based. */
  index: number;
  count: number;
  startedAt: string;
  finishedAt: string | null;
  /** As written by finishShard (counts, the settings metrics are computed with, issues, coverage, warnings, model calls); null while running. */
  summary: unknown;
}

/** What became of one result of a group: stored, or the error that kept it out (a DuplicateResultError, or one serializing it). */
export type AppendOutcome = null | Error;

/**
 * Where runs and their per-trace results live. Every write is durable when the
 * call returns: a process killed mid-run loses no result already appended.
 * Two implementations (SQLite and memory) pass one contract test.
 */
export interface Store {
  /** `shard`: the run's share of the traces (RunRecord.shard); `tracesHash`: the digest of the trace files it reads. None: null. */
  createRun(meta: RunMeta & { shard?: string | null; tracesHash?: string | null }): void;
  getRun(runId: string): RunRecord | undefined;
  /** Newest first. */
  listRuns(options?: { suite?: string; limit?: number }): RunRecord[];
  /** Appends one result; appending the same (runId, key) twice replaces nothing and throws DuplicateResultError. */
  appendResult(runId: string, key: string, result: TraceResult): void;
  /**
   * Appends a group of results in one transaction (one commit, however many results): each
   * is stored, or refused on its own (a duplicate key, a result that is not JSON) without
   * failing the others; a failure of the store itself fails the whole group, and nothing of it is kept.
   * With `lease` (a token), the group is stored only while that token holds the run's lease (or the lease of
   * one of its shards: a token is issued for one lease), checked in the same transaction; otherwise a
   * LeaseLostError, and nothing of it is kept.
   */
  appendResults(runId: string, entries: readonly { key: string; result: TraceResult }[], lease?: string): AppendOutcome[];
  /**
   * appendResults off the caller's thread, where the store can (a SQLite file: a connection of
   * its own on a worker thread): groups are committed in the order given, and each promise
   * resolves with the group's outcomes once it is durable. Reads see a group once its promise resolved.
   */
  appendResultsLater?(runId: string, entries: readonly { key: string; result: TraceResult }[], lease?: string): Promise<AppendOutcome[]>;
  /** Whether a result is stored for (runId, key). */
  hasResult(runId: string, key: string): boolean;
  /** The keys of the results stored for a run. */
  resultKeys(runId: string): Set<string>;
  countResults(runId: string): number;
  /** The results of one trace in a run (one per trial), read by key. */
  resultsOfTrace(runId: string, traceId: string): TraceResult[];
  /** Results in the order they were appended, streamed. */
  results(runId: string): IterableIterator<TraceResult>;
  /** `results`, as the JSON text each was stored as (unparsed, to be written out as it is). */
  resultsJson(runId: string): IterableIterator<string>;
  /** Marks a run finished; with `lease`, only while that token holds its lease (else a LeaseLostError). */
  finishRun(runId: string, finishedAt: string, summary: unknown, lease?: string): void;
  /** Records that a shard of the run has started: once; again for the same (runId, index), nothing (a resumed shard keeps its row). */
  startShard(shard: Pick<ShardRecord, 'runId' | 'index' | 'count' | 'startedAt'>): void;
  /** The run's shards that have started, by index. */
  listShards(runId: string): ShardRecord[];
  /** Marks a shard finished with its summary; with `lease`, only while that token holds the shard's lease (else a LeaseLostError). An unknown shard is a StoreError. */
  finishShard(runId: string, index: number, finishedAt: string, summary: unknown, lease?: string): void;
  /**
   * Takes a run's lease (with `shard`: the lease of that shard of the run, see startShard) for
   * `lease.token`, atomically (two takers racing cannot both win), when it is free, its heartbeat
   * is older than `staleBefore`, or it is held by the token `replacing` (a holder the caller found
   * dead). Returns the lease held afterwards: `lease` when it was taken, the other holder's when
   * not. An unknown run (or shard) is a StoreError.
   */
  acquireLease(runId: string, lease: RunLease, conditions: { staleBefore: string; replacing?: string }, shard?: number): RunLease;
  /** The run's (or its shard's) lease, or null when no one holds it. */
  getLease(runId: string, shard?: number): RunLease | null;
  /** Refreshes the heartbeat of the lease `token` holds; false when the token holds it no longer. */
  renewLease(runId: string, token: string, heartbeatAt: string, shard?: number): boolean;
  /** Lets go of the lease, when `token` still holds it. */
  releaseLease(runId: string, token: string, shard?: number): void;
  /** The response cache: a model exchange by its request key. */
  getExchange(key: string): Exchange | undefined;
  /** Stores (or replaces) a model exchange under its request key. */
  putExchange(exchange: Exchange): void;
  /** Adds an item to the review queue once (again for the same run, trace and trial: nothing); returns its id. */
  enqueueReview(item: Omit<ReviewItem, 'id'>): number;
  /** Review items with their verdicts, oldest first; `pending`: only those with no verdict yet. */
  reviewItems(options?: { pending?: boolean; runId?: string }): (ReviewItem & { verdicts: ReviewVerdictRecord[] })[];
  /** Appends a verdict; an unknown item is a StoreError. */
  addVerdict(verdict: ReviewVerdictRecord): void;
  /**
   * Hands the review session `session` the oldest pending item (no verdict yet) after id `after`
   * that no other session holds, and records the claim (with the session and the reviewer's name),
   * atomically: two sessions claiming at once never get the same item, whatever their reviewers'
   * names. A claim older than `staleBefore` (a reviewer who left) no longer holds; the session's own
   * claims are handed back to it. Undefined when nothing is left.
   */
  claimReview(options: ReviewClaimOptions): (ReviewItem & { verdicts: ReviewVerdictRecord[] }) | undefined;
  /** Lets go of the claim `session` holds on an item (skipped, or the session ended), so another session may take it. */
  releaseReview(itemId: number, session: string): void;
  close(): void;
}
