import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import { InputError, NotFoundError, UsageError, type Issue } from '../errors.js';
import { evaluateGate, type GateResult } from '../gate/gate.js';
import { createMetricsAccumulator, type Counts, type RunMetrics } from '../metrics/summary.js';
import { errorData } from '../replay/supervise.js';
import { buildResult, unpairedResult, type CompareOptions } from '../replay/replay-trace.js';
import { resultKey, type TraceResult } from '../replay/types.js';
import type { ResolvedSuite } from '../suite/load.js';
import type { RunMeta, Store } from '../store/types.js';
import { readTraceFile } from '../trace/reader.js';
import type { Trace } from '../trace/schema.js';
import { prepareCandidate, type ModelOptions } from './candidate.js';
import type { TransportStats } from '../providers/transport.js';

export interface ProgressEvent {
  /** Results finished so far in this process, plus those resumed from the store. */
  done: number;
  /** Expected results in all (an estimate until every file is read: blank and bad lines count until then). */
  total: number;
  result?: TraceResult;
}

export interface RunOptions extends ModelOptions {
  store: Store;
  /** Traces replayed at once. @default 4 */
  concurrency?: number;
  /** Continue this stored run: only results it lacks are run. */
  resume?: string;
  /** Any bad trace line fails the run before anything is replayed. */
  strict?: boolean;
  /** Overrides the suite's `trials`. */
  trials?: number;
  git?: { commit: string | null; ref: string | null };
  /** Paths in results and issues are shown relative to this folder. */
  cwd?: string;
  now?: () => Date;
  onProgress?: (event: ProgressEvent) => void;
}

export interface RunOutcome {
  meta: RunMeta;
  finishedAt: string;
  counts: Counts;
  metrics: RunMetrics;
  gate: GateResult;
  /** Bad trace lines, skipped. */
  issues: Issue[];
  warnings: string[];
  /** Results taken from the store rather than run again. */
  resumed: number;
  /** Model requests made in this process: cache and cassette hits, network calls, retries. */
  modelCalls: TransportStats;
  /** Exchanges written to the cassette, when recording. */
  recorded?: number;
}

/**
 * Runs one suite: streams its traces, replays each against the candidate,
 * compares, stores each result as soon as it is done, and summarises.
 * A failing trace is a result with status `error`, never a crash.
 */
export async function runSuite(suite: ResolvedSuite, options: RunOptions): Promise<RunOutcome> {
  const { store, now = () => new Date(), cwd = process.cwd() } = options;
  const show = (file: string) => relative(cwd, file) || file;
  if (options.strict) await assertAllLinesValid(suite, show);

  const candidate = await prepareCandidate(suite, store, options);
  const trials = suite.candidate.kind === 'recorded' ? 1 : (options.trials ?? suite.trials);
  const compare: CompareOptions = {
    catalog: suite.catalog,
    reference: suite.reference,
    decision: suite.compare.decision,
    ignoreArgs: [...new Set([...suite.mocks.ignoreArgs, ...suite.compare.effects.ignoreArgs])],
    pricing: suite.pricing,
  };

  const accumulator = createMetricsAccumulator();
  const { meta, done } = openRun(suite, options, now);
  for (const result of done.size > 0 ? store.results(meta.runId) : []) accumulator.add(result);
  const resumed = done.size;

  const issues: Issue[] = candidate.issues.map((i) => ({ ...i, file: show(i.file) }));
  const warnings: string[] = [];
  const total = (await countLines(suite.traceFiles)) * trials;
  let finished = resumed;
  options.onProgress?.({ done: finished, total });

  const replay = async (trace: Trace, trial: number, source: { file: string; line: number }) => {
    let result: TraceResult;
    try {
      const outcome = await candidate.play(trace, trial);
      result = outcome ? buildResult(trace, trial, outcome, source, compare) : unpairedResult(trace, trial, source);
    } catch (error) {
      // A harness failure on one trace is recorded on that trace, not thrown at the run.
      const outcome = { status: 'error' as const, decision: undefined, steps: [], error: errorData(error, 'SG_INTERNAL'), latencyMs: null };
      result = buildResult(trace, trial, outcome, source, compare);
    }
    store.appendResult(meta.runId, resultKey(result.traceId, result.trial), result);
    accumulator.add(result);
    options.onProgress?.({ done: ++finished, total, result });
  };

  const pool = new Set<Promise<void>>();
  const seen = new Set<string>();
  for (const file of suite.traceFiles) {
    for await (const line of readTraceFile(file)) {
      if (!line.ok) {
        issues.push(...line.issues.map((i) => ({ ...i, file: show(i.file) })));
        continue;
      }
      const { trace } = line;
      if (seen.has(trace.id)) {
        issues.push({ file: show(file), line: line.line, path: 'id', message: `duplicate trace id ${trace.id}; this line is skipped` });
        continue;
      }
      seen.add(trace.id);
      for (let t = 0; t < trials; t++) {
        const trial = suite.candidate.kind === 'recorded' ? (trace.trial ?? 0) : t;
        if (done.has(resultKey(trace.id, trial))) continue;
        const task = replay(trace, trial, { file: show(file), line: line.line }).finally(() => pool.delete(task));
        pool.add(task);
        if (pool.size >= (options.concurrency ?? 4)) await Promise.race(pool);
      }
    }
  }
  await Promise.all(pool);

  const unused = candidate.unusedPartners();
  if (unused.length > 0) {
    warnings.push(`${unused.length} candidate trace(s) have no partner among the suite's traces: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', …' : ''}`);
  }
  const metrics = accumulator.finish();
  const counts = accumulator.counts();
  const gate = evaluateGate(suite.gate, metrics);
  const end = now();
  const recorded = candidate.finish(end);
  const modelCalls = candidate.modelStats();
  const finishedAt = end.toISOString();
  store.finishRun(meta.runId, finishedAt, { counts, metrics, gate, issues: issues.length, warnings, modelCalls });
  return { meta, finishedAt, counts, metrics, gate, issues, warnings, resumed, modelCalls, ...(recorded !== undefined ? { recorded } : {}) };
}

function openRun(suite: ResolvedSuite, options: RunOptions, now: () => Date): { meta: RunMeta; done: Set<string> } {
  const { store } = options;
  if (options.resume) {
    const run = store.getRun(options.resume);
    if (!run) throw new NotFoundError(`no run ${options.resume} in the store`, 'list runs with `shadowgate runs`, or check --db');
    if (run.suite !== suite.name || run.suiteHash !== suite.suiteHash || run.candidateHash !== suite.candidateHash) {
      throw new UsageError(
        `run ${run.runId} was made with a different suite or candidate than ${suite.file}`,
        'a run can only be resumed with the suite, catalog and candidate it started with; start a new run instead',
      );
    }
    const { finishedAt: _f, summary: _s, ...meta } = run;
    return { meta, done: store.resultKeys(run.runId) };
  }
  const startedAt = now();
  const meta: RunMeta = {
    runId: newRunId(startedAt),
    suite: suite.name,
    suiteFile: suite.file,
    suiteHash: suite.suiteHash,
    candidateHash: suite.candidateHash,
    candidate: suite.candidateLabel,
    model: suite.candidate.kind === 'tool-loop' ? suite.candidate.model : null,
    promptVersion: suite.candidate.kind === 'tool-loop' ? (suite.candidate.promptVersion ?? null) : null,
    phase: suite.phase,
    reference: suite.reference,
    gitCommit: options.git?.commit ?? null,
    gitRef: options.git?.ref ?? null,
    startedAt: startedAt.toISOString(),
  };
  store.createRun(meta);
  return { meta, done: new Set() };
}

/** `20261121-232412-3fa9c1`: sortable by time, unique enough for one store. */
function newRunId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

async function countLines(files: string[]): Promise<number> {
  let n = 0;
  for (const file of files) for await (const _ of readTraceFileLines(file)) n++;
  return n;
}

async function* readTraceFileLines(file: string): AsyncGenerator<void> {
  const { createReadStream } = await import('node:fs');
  let pending = false;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i++) {
      if (buf[i] === 10) {
        if (pending) yield;
        pending = false;
      } else if (buf[i] !== 13 && buf[i] !== 32) pending = true;
    }
  }
  if (pending) yield;
}

/** `--strict`: every line of every trace file must be a valid trace, checked before anything runs. */
async function assertAllLinesValid(suite: ResolvedSuite, show: (file: string) => string): Promise<void> {
  const issues: Issue[] = [];
  for (const file of suite.traceFiles) {
    for await (const line of readTraceFile(file)) if (!line.ok) issues.push(...line.issues.map((i) => ({ ...i, file: show(i.file) })));
  }
  if (issues.length > 0) throw new InputError(issues, 'drop --strict to run the valid lines and report the others');
}
