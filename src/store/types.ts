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
}

export interface RunRecord extends RunMeta {
  finishedAt: string | null;
  /** The finished run's counts, metrics and gate, as written by finishRun; null while running. */
  summary: unknown;
}

/**
 * Where runs and their per-trace results live. Every write is durable when the
 * call returns: a process killed mid-run loses no result already appended.
 * Two implementations (SQLite and memory) pass one contract test.
 */
export interface Store {
  createRun(meta: RunMeta): void;
  getRun(runId: string): RunRecord | undefined;
  /** Newest first. */
  listRuns(options?: { suite?: string; limit?: number }): RunRecord[];
  /** Appends one result; appending the same (runId, key) twice replaces nothing and throws DuplicateResultError. */
  appendResult(runId: string, key: string, result: TraceResult): void;
  /** Whether a result is stored for (runId, key). */
  hasResult(runId: string, key: string): boolean;
  /** The keys of the results stored for a run. */
  resultKeys(runId: string): Set<string>;
  countResults(runId: string): number;
  /** The results of one trace in a run (one per trial), read by key. */
  resultsOfTrace(runId: string, traceId: string): TraceResult[];
  /** Results in the order they were appended, streamed. */
  results(runId: string): IterableIterator<TraceResult>;
  finishRun(runId: string, finishedAt: string, summary: unknown): void;
  /** The response cache: a model exchange by its request key. */
  getExchange(key: string): Exchange | undefined;
  /** Stores (or replaces) a model exchange under its request key. */
  putExchange(exchange: Exchange): void;
  close(): void;
}
