import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { DuplicateResultError, InputError, NotFoundError, ShadowgateError, UsageError, type Issue } from '../errors.js';
import { evaluateGate, type GateResult } from '../gate/gate.js';
import { coverageOf, unreadableLocations, type CoverageCounts } from '../gate/coverage.js';
import { collapseTrials, mcnemarMidP, pairResults, traceOutcomes } from '../metrics/paired.js';
import { jensenShannon } from '../metrics/stats.js';
import { costTrend } from '../phases/auto.js';
import { createDecisionShapeCheck } from './decision-shape.js';
import { createMetricsAccumulator, decisionClass, noOutcome, withRunLevelViolations, type Counts, type MetricsAccumulator, type NoiseFloor, type PairedMetric, type RunLevelViolation, type RunMetrics, type SuggestSettings } from '../metrics/summary.js';
import type { PairableResult } from '../metrics/paired.js';
import type { DecisionComparator } from '../metrics/compare.js';
import type { Phase } from '../trace/schema.js';
import type { Baseline } from './baseline.js';
import { errorData, type CandidateOutcome } from '../replay/supervise.js';
import { buildResult, unpairedResult, type CompareOptions } from '../replay/replay-trace.js';
import { DECIDED_STATUSES, resultKey, type TraceResult } from '../replay/types.js';
import { fnv1a32, inSample, stratifiedSample } from '../phases/sampling.js';
import { keptReversibility } from '../phases/promotion.js';
import type { RunReversibility } from '../phases/reversibility.js';
import { withStoredCandidate, type ResolvedSuite } from '../suite/load.js';
import { createPolicy } from '../policy/evaluate.js';
import type { GateConfig } from '../suite/schema.js';
import type { ExchangeSink } from '../providers/transport.js';
import type { RunMeta, RunRecord, Store } from '../store/types.js';
import { canonicalJson } from '../trace/canonical.js';
import { readTraceFile, unreadableTraceFile, UnreadableTraceFile } from '../trace/reader.js';
import { caseIdOf, type Trace } from '../trace/schema.js';
import { prepareCandidate, type ModelOptions } from './candidate.js';
import { runRedactor } from './run-secrets.js';
import { redactingStore } from '../store/redacting.js';
import { createResultWriter, DEFAULT_COMMIT, type CommitPolicy } from './result-writer.js';
import { acquireRunLease, type HeldLease, type LeaseOptions } from './lease.js';
import type { TransportStats } from '../providers/transport.js';

export interface ProgressEvent {
  /** Results finished so far in this process, plus those resumed from the store. */
  done: number;
  /** Expected results in all (an estimate until every file is read: blank and bad lines count until then). */
  total: number;
  result?: TraceResult;
  /** The trace the result replayed. */
  trace?: Trace;
}

export interface RunOptions extends ModelOptions {
  store: Store;
  /** Traces replayed at once. @default 4 */
  concurrency?: number;
  /** When results are committed to the store: in groups of `results`, or after `ms`. @default { results: 500, ms: 100 } */
  commit?: Partial<CommitPolicy>;
  /** Continue this stored run: only results it lacks are run. Refused while another process holds the run's lease. */
  resume?: string;
  /** The run's lease: one live writer per run (timeout of a silent holder, for tests). */
  lease?: Pick<LeaseOptions, 'timeoutMs' | 'heartbeatMs'>;
  /** Any bad trace line fails the run before anything is replayed. */
  strict?: boolean;
  /** Overrides the suite's `trials`. */
  trials?: number;
  /** A run to pair results with, trace by trace (see loadBaseline). */
  baseline?: Baseline;
  /** Run the candidate a second time, independently (an A/A run), and report how much it disagrees with itself. */
  noiseFloor?: boolean;
  /** Run only this shard (1-based) of a deterministic split of the traces by case id. */
  shard?: { index: number; count: number };
  /**
   * With `shard`: write into this stored run, shared by every shard that names it (`--run-id`). The
   * first shard to arrive creates it; a shard of another suite or candidate is refused; the same
   * shard again resumes it. `finalizeRun` then gives the run its figures and verdict.
   */
  runId?: string;
  /** Run only the traces this returns true for (the others are skipped, as traces of another shard are). */
  filter?: (trace: Trace) => boolean;
  git?: { commit: string | null; ref: string | null };
  /** Paths in results and issues are shown relative to this folder. */
  cwd?: string;
  now?: () => Date;
  onProgress?: (event: ProgressEvent) => void;
}

export interface RunSettings {
  gate: GateConfig;
  trials: number;
  driftIgnoreArgs: string[];
  /** The catalog's effect classes and the shadow period asked, for the reversibility matrix; absent in files of older runs. */
  reversibility?: RunReversibility;
  /** The ids of the suite's policy rules, each counted in the metrics even when unbroken. */
  policyRules?: string[];
  /** The suite's phase and its settings (review sample, SLA); absent in files of older runs (then the shadow phase's figures only). */
  phase?: Phase;
  review?: { sampleRate: number; seed: number; stratify?: 'decision'; editThreshold?: number };
  slaMs?: number;
  /** The baseline the run was paired with (`--baseline`): its run id, its per-trace pairing rows, and its cost per run where known (for the cost trend). */
  /** `perRunUsd`: the baseline's cost per run where every trace of it is of known cost; else null, and `costUnknown` says why. */
  baseline?: { runId: string; rows: PairableResult[]; perRunUsd?: number | null; costUnknown?: string; identity?: PairedMetric['baselineIdentity'] };
  /** The suite's comparator (`compare.decision`), for the simulated review verdicts of the suggest phase. */
  decision?: DecisionComparator;
  /**
   * A shard's noise floor (`--noise-floor`), as the results of its A/A run(s), so that `merge`
   * measures it over every shard: `first` is null when the first run is this run itself.
   */
  noiseFloor?: { subject: NoiseFloor['subject']; runId: string; first: TraceResult[] | null; second: TraceResult[] };
  /**
   * The digest of the suite's trace files as the run read them (each one's path from the suite's
   * folder and its bytes): a run resumed, or a shard merged, on other trace contents would hold
   * results of traces that are not these. Absent in files of older runs.
   */
  tracesHash?: string;
  /** The suite's `evidenceHash` (what decides what the figures mean), kept with the run for `phase`; absent in runs of older shadowgates. */
  evidenceHash?: string;
}

export interface RunOutcome {
  meta: RunMeta;
  finishedAt: string;
  counts: Counts;
  metrics: RunMetrics;
  gate: GateResult;
  /** Bad trace lines, skipped. */
  issues: Issue[];
  /** The trace lines in the run's share and how many could not be read into a result (the gate's `coverage`). */
  coverage?: CoverageCounts;
  warnings: string[];
  /** Results taken from the store rather than run again. */
  resumed: number;
  /** How many times each trace was run. */
  trials: number;
  shard?: { index: number; count: number };
  /** What metrics and the gate were computed with, so that shards can be merged into the same figures. */
  settings: RunSettings;
  /** Model requests made in this process: cache and cassette hits, network calls, retries. */
  modelCalls: TransportStats;
  /** A shard of a run its shards share (`runId`): the run's stored results are every shard's, this outcome's only its own. */
  shared?: true;
  /** Exchanges written to the cassette, when recording. */
  recorded?: number;
}

/**
 * Runs one suite: streams its traces, replays each against the candidate,
 * compares, stores the results in groups as they finish, and summarises.
 * A failing trace is a result with status `error`, never a crash.
 */
export async function runSuite(suite: ResolvedSuite, options: RunOptions): Promise<RunOutcome> {
  const leases = new Set<HeldLease>();
  try {
    return await executeRun(suite, options, leases);
  } finally {
    // The run lets go of its lease however it ends; a killed process's is taken over (see lease.ts).
    for (const lease of leases) lease.release();
  }
}

/** runSuite, which puts the lease of the run it opens into `leases` as soon as it holds it. */
async function executeRun(suite: ResolvedSuite, options: RunOptions, leases: Set<HeldLease>): Promise<RunOutcome> {
  const { now = () => new Date(), cwd = process.cwd(), concurrency = 4 } = options;
  // Checked before anything is done: below 1 no trace would ever start (and NaN would bound nothing).
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`concurrency must be a whole number of traces, at least 1 (got ${concurrency})`, 'pass --concurrency <n> with n >= 1');
  // Every write of the run (results, cache, review items, summary) without the secrets it holds.
  const redactor = options.redactor ?? runRedactor(options.env ?? process.env, [suite]);
  const store = redactingStore(options.store, redactor);
  const show = (file: string) => relative(cwd, file) || file;
  if (options.strict) await assertAllLinesValid(suite, show);

  // Compiled once: the guard refuses calls with it, and the results' breaches are found with it.
  const policy = suite.policy ? createPolicy(suite.policy) : undefined;
  // The trace lines are counted while the candidate's processes start (they import it on other cores).
  const lineCount = countLines(suite.traceFiles, dirname(suite.file), show);
  lineCount.catch(() => {}); // awaited below, once the candidate is ready; a failure to start comes first
  const candidate = await prepareCandidate(suite, store, { ...options, redactor }, policy);
  const trials = suite.candidate.kind === 'recorded' ? 1 : (options.trials ?? suite.trials);
  const compare: CompareOptions = {
    catalog: suite.catalog,
    reference: suite.reference,
    decision: suite.compare.decision,
    effectsIgnoreArgs: suite.compare.effects.ignoreArgs,
    pathIgnoreArgs: [...new Set([...suite.mocks.ignoreArgs, ...suite.compare.effects.ignoreArgs])],
    pricing: suite.pricing,
    ...(policy ? { policy } : {}),
  };

  const settings: RunSettings = {
    gate: suite.gate,
    trials,
    driftIgnoreArgs: compare.pathIgnoreArgs,
    reversibility: keptReversibility(suite),
    ...(compare.policy ? { policyRules: compare.policy.ids } : {}),
    phase: suite.phase,
    decision: compare.decision,
    ...(suite.review ? { review: suite.review } : {}),
    ...(suite.sla ? { slaMs: suite.sla.latencyMs } : {}),
    // `--trials` other than the suite's runs under other rules than the file's: kept as such, so that `phase` sets the run aside.
    evidenceHash: options.trials === undefined || options.trials === suite.trials ? suite.evidenceHash : createHash('sha256').update(`${suite.evidenceHash}\0trials ${options.trials}`).digest('hex'),
    ...(options.baseline
      ? { baseline: { runId: options.baseline.runId, rows: options.baseline.rows, identity: baselineIdentity(options.baseline, suite.candidateHash), ...baselineCost(options.baseline) } }
      : {}),
  };
  const accumulator = metricsAccumulator(settings);
  // Decisions compare.decision.fields cannot compare as meant: warnings located on the first trace, not silent disagreements.
  const decisionShapes = createDecisionShapeCheck(compare.decision);
  // A store failure in a timer's commit, or the lease taken by another process: the run stops once the tasks in flight end.
  let fatal: unknown;
  let opened: ReturnType<typeof openRun>;
  let counted: number;
  try {
    // A file that cannot be read now (gone since the suite was loaded) fails the run before it is opened.
    let tracesHash: string;
    ({ lines: counted, hash: tracesHash } = await lineCount);
    settings.tracesHash = tracesHash;
    opened = openRun(suite, options, settings, now, show, (error) => void (fatal ??= error));
  } catch (error) {
    await candidate.close();
    throw error;
  }
  const { meta, resuming, lease, shared } = opened;
  leases.add(lease);
  // This process's own results: in a run its shards share, those of its shard alone.
  const ownResults = (): Iterable<TraceResult> => (shared && options.shard ? resultsOfShard(store.results(meta.runId), options.shard) : store.results(meta.runId));
  let resumed = 0;
  for (const result of resuming ? ownResults() : []) {
    accumulator.add(result);
    decisionShapes.add(result);
    resumed++;
  }

  const issues: Issue[] = candidate.issues.map((i) => ({ ...i, file: show(i.file) }));
  const warnings: string[] = [];
  const asked = options.trials ?? suite.trials;
  if (suite.candidate.kind === 'recorded' && asked > 1) warnings.push(`trials ${asked} are not run for a recorded candidate: its trials are its recorded traces of each case`);
  // A recorded candidate plays a suite trace once per candidate trace it pairs with (its trials of the case).
  const trialsOf = (trace: Trace): number[] => candidate.trialsOf?.(trace) ?? Array.from({ length: trials }, (_, t) => t);
  /** The cases of the suite this run played (recorded candidates): their candidate traces are theirs to pair. */
  const judgedCases = new Set<string>();
  const duplicateLines = new Set<string>();
  /** Whether a case is in this run's share of the traces (its shard's, or every case without one). */
  const inShare = (caseId: string) => !options.shard || shardOf(caseId, options.shard.count) === options.shard.index - 1;
  let total = counted * trials + (candidate.extraTrials ?? 0);
  let finished = resumed;
  // Trace lines in this run's share, read or not (a bad line is in every shard's); the candidate's bad lines count too.
  let lines = unreadableLocations(issues).length;
  options.onProgress?.({ done: finished, total });

  // A result counts (review queue, metrics, progress) once it is committed.
  // Every group is written only while this process holds the run's lease.
  const leased: Pick<Store, 'appendResults' | 'appendResultsLater'> = {
    appendResults: (runId, entries) => store.appendResults(runId, entries, lease.token),
    ...(store.appendResultsLater ? { appendResultsLater: (runId, entries) => store.appendResultsLater!(runId, entries, lease.token) } : {}),
  };
  const writer = createResultWriter<{ trace: Trace; source: { file: string; line: number } }>(leased, meta.runId, { ...DEFAULT_COMMIT, ...options.commit }, (pending, refused) => {
    const { trace, source } = pending.context;
    let { result } = pending;
    if (refused instanceof DuplicateResultError) {
      // A repeated line played as several trials is refused once per trial: said once.
      if (!duplicateLines.has(`${source.file}:${source.line}`)) {
        duplicateLines.add(`${source.file}:${source.line}`);
        issues.push({ ...source, path: 'id', message: `duplicate trace id ${result.traceId}; this line is skipped` });
      }
      total -= 1;
      return;
    }
    if (refused) {
      // The result could not be stored as it is (a decision that is not JSON): it is stored as an error instead.
      result = unstorable(result, refused);
      store.appendResult(meta.runId, pending.key, result);
    }
    if (needsReview(suite, result)) {
      store.enqueueReview({
        runId: meta.runId,
        traceId: result.traceId,
        trial: result.trial,
        workflow: trace.workflow,
        phase: suite.phase,
        input: trace.input,
        steps: trace.steps,
        suggestion: result.decision,
        reference: result.reference.decision,
        enqueuedAt: now().toISOString(),
      });
    }
    accumulator.add(result);
    decisionShapes.add(result);
    options.onProgress?.({ done: ++finished, total, result, trace });
  });

  const replay = async (trace: Trace, trial: number, source: { file: string; line: number }) => {
    let result: TraceResult;
    try {
      const outcome = notReplayable(suite, trace) ?? (await candidate.play(trace, trial));
      result = outcome ? buildResult(trace, trial, outcome, source, compare) : unpairedResult(trace, trial, source);
    } catch (error) {
      // A harness failure on one trace is recorded on that trace, not thrown at the run.
      const outcome = { status: 'error' as const, decision: undefined, steps: [], error: errorData(error, 'SG_INTERNAL'), latencyMs: null };
      result = buildResult(trace, trial, outcome, source, compare);
    }
    if (result.error) {
      result.error = JSON.parse(candidate.redact(JSON.stringify(result.error))) as typeof result.error;
      // A missing key fails every call that needs the network alike: a configuration problem, not a result.
      if (result.error.code === 'SG_CONFIG_INVALID') {
        throw new ShadowgateError('SG_CONFIG_INVALID', result.error.message, {
          hint: 'set OPENAI_API_KEY or ANTHROPIC_API_KEY (or the suite\'s apiKeyEnv), or run with --replay-only and a recorded cassette',
        });
      }
    }
    writer.add({ key: resultKey(result.traceId, result.trial), result, context: { trace, source } });
  };

  // Tasks never reject for a trace's own problems; a failing store stops the run once the tasks in flight end.
  let running = 0;
  /** Resolves the wait for a free place (a task ended) or for the last task to end, whichever is asked. */
  let wake: (() => void) | undefined;
  const schedule = async (task: () => Promise<void>) => {
    running++;
    void task()
      .catch((error: unknown) => void (fatal ??= error))
      .finally(() => {
        running--;
        wake?.();
      });
    while (running >= concurrency) await new Promise<void>((resolve) => (wake = resolve));
  };
  const allEnded = async () => {
    while (running > 0) await new Promise<void>((resolve) => (wake = resolve));
  };
  try {
    try {
      files: for (const file of suite.traceFiles) {
        for await (const line of readTraceFile(file)) {
          if (fatal) break files;
          if (!line.ok) {
            issues.push(...line.issues.map((i) => ({ ...i, file: show(i.file) })));
            total -= trials;
            lines++;
            continue;
          }
          const { trace } = line;
          const played = trialsOf(trace);
          if (!inShare(caseIdOf(trace)) || (options.filter && !options.filter(trace))) {
            total -= played.length;
            continue;
          }
          lines++;
          if (candidate.trialsOf) judgedCases.add(caseIdOf(trace));
          for (const trial of played) {
            if (resuming && store.hasResult(meta.runId, resultKey(trace.id, trial))) {
              candidate.passed?.(trace, trial);
              continue;
            }
            const room = writer.room(); // a store that commits off this thread and is behind holds the run back
            if (room) await room;
            await schedule(() => replay(trace, trial, { file: show(file), line: line.line }));
          }
        }
      }
    } catch (error) {
      // A trace file that cannot be read (gone, or failing, since it was counted) stops the run as a
      // failing store does: the traces in flight end, and their results are committed to the run.
      fatal ??= error instanceof UnreadableTraceFile ? shownIssues(error, show, `the run stopped there; the results committed before it are kept in run ${meta.runId}`) : error;
    }
    await allEnded();
  } finally {
    // The candidate's processes end here, whatever happened: none outlives the run.
    await candidate.close();
  }
  try {
    await writer.flush(); // what finished before a failure is kept too, for --resume
  } catch (error) {
    fatal ??= error;
  }
  if (fatal) throw fatal;
  if (suite.phase === 'auto-with-review' && suite.review?.stratify) await enqueueStratifiedSample(suite, store, meta, ownResults, now);
  options.onProgress?.({ done: finished, total: finished });

  // A recorded candidate's traces left without a partner: of a case this run judged, its evidence left out (the coverage
  // check says so); of a case the suite does not have, a warning; of a case of another shard, that shard's.
  const unused = candidate.unusedPartners();
  const unjudged = unused.filter((t) => judgedCases.has(t.caseId));
  const strangers = unused.filter((t) => !judgedCases.has(t.caseId) && inShare(t.caseId));
  if (strangers.length > 0) {
    warnings.push(`${strangers.length} candidate trace(s) have no partner among the suite's traces: ${strangers.slice(0, 5).map((t) => t.id).join(', ')}${strangers.length > 5 ? ', …' : ''}`);
  }
  warnings.push(...decisionShapes.warnings());
  const metrics = accumulator.finish();
  metrics.safetyViolations = withRunLevelViolations(metrics.safetyViolations, candidate.runLevelViolations());
  if (candidate.sandboxLoosenings.length > 0) warnings.push(`the suite's sandbox allows the candidate ${candidate.sandboxLoosenings.join('; ')}`);
  let noiseFloor: NoiseFloor | undefined;
  if (options.noiseFloor) {
    const measured = await measureNoise(suite, options, { meta, metrics, results: ownResults }, candidate.recorder, warnings);
    noiseFloor = measured.noiseFloor;
    // A shard carries its A/A results, for merge to measure the noise floor over all shards.
    if (options.shard) settings.noiseFloor = measured.evidence;
  }
  const counts = accumulator.counts();
  // Traces without an outcome through no fault of the candidate are missing evidence: they lower coverage.
  const coverage = coverageOf(lines, issues, counts.noOutcome.infrastructure, { traces: unjudged.length, first: unjudged.map((t) => t.id) });
  const gate = completeRun(metrics, settings, ownResults, noiseFloor, coverage, counts);
  const end = now();
  const recorded = candidate.finish(end);
  const modelCalls = candidate.modelStats();
  const finishedAt = end.toISOString();
  if (shared && options.shard) {
    // What finalize needs of the shard besides its results: what merge reads from a shard's results file.
    const summary: ShardSummary = { counts, settings, issues, coverage, warnings, modelCalls, runLevel: candidate.runLevelViolations() };
    store.finishShard(meta.runId, options.shard.index, finishedAt, summary, lease.token);
  } else {
    store.finishRun(meta.runId, finishedAt, { counts, metrics, gate, coverage, issues: issues.length, warnings, modelCalls, shard: options.shard ?? null, settings: keptSettings(settings) }, lease.token);
  }
  return {
    meta, finishedAt, counts, metrics, gate, issues, coverage, warnings, resumed, trials, modelCalls, settings,
    ...(options.shard ? { shard: options.shard } : {}), ...(shared ? { shared: true as const } : {}), ...(recorded !== undefined ? { recorded } : {}),
  };
}

/**
 * What a finished run keeps of its settings in its stored summary: what its suggest figures were
 * computed with, so that `phase` counts the review queue's later verdicts as the run counted its own,
 * and the suite's evidence hash, so that `phase` credits it only under the same rules.
 */
export function keptSettings(settings: RunSettings): SuggestSettings & Pick<RunSettings, 'evidenceHash'> {
  return {
    ...(settings.decision ? { decision: settings.decision } : {}),
    ...(settings.review ? { review: settings.review } : {}),
    ...(settings.evidenceHash ? { evidenceHash: settings.evidenceHash } : {}),
  };
}

/**
 * The settings that change a run's results or figures, each as it is compared between the shards
 * of one run: the trials, the baseline paired with, and what the suite sets (phase, review sample
 * and seed, SLA, the decision comparator, the gate, the arguments drift ignores, the policy rules,
 * the reversibility matrix's classes), and the trace files' contents. Not concurrency, workers or commits, which change nothing;
 * not the noise floor, which merge measures over the shards that carry one, and leaves out
 * (none, not a partial one) when some do not.
 */
const SHARED_SETTINGS: readonly [name: string, pick: (s: RunSettings) => unknown][] = [
  ['trials', (s) => s.trials],
  ['baseline', (s) => s.baseline?.runId ?? 'none'],
  ['phase', (s) => s.phase],
  ['review', (s) => s.review],
  ['slaMs', (s) => s.slaMs],
  ['decision', (s) => s.decision],
  ['gate', (s) => s.gate],
  ['driftIgnoreArgs', (s) => s.driftIgnoreArgs],
  ['policyRules', (s) => s.policyRules],
  ['reversibility', (s) => s.reversibility],
  ['tracesHash', (s) => s.tracesHash],
];

/**
 * The first setting (of SHARED_SETTINGS) in which two shards of one run differ, with each one's
 * value (a string as it is, else as JSON; `none` for an absent one); undefined when they agree in all. Merging shards that
 * differ in one would sum results of two different runs into one verdict.
 */
export function settingsMismatch(ours: RunSettings, theirs: RunSettings): { name: string; ours: string; theirs: string } | undefined {
  for (const [name, pick] of SHARED_SETTINGS) {
    const [a, b] = [pick(ours), pick(theirs)];
    if (canonicalJson(a ?? null) !== canonicalJson(b ?? null)) return { name, ours: shownSetting(a), theirs: shownSetting(b) };
  }
  return undefined;
}

const shownSetting = (value: unknown) => (value === undefined ? 'none' : typeof value === 'string' ? value : canonicalJson(value));

/** What a shard of a shared run stores when it finishes (Store.finishShard), for `finalizeRun`. */
export interface ShardSummary {
  counts: Counts;
  settings: RunSettings;
  issues: Issue[];
  coverage: CoverageCounts;
  warnings: string[];
  modelCalls: TransportStats;
  /** The safety violations outside any trace (on no result). */
  runLevel: RunLevelViolation[];
}

/** The results of one shard among those of a run its shards share: a result's shard is its case's. */
export function* resultsOfShard(results: Iterable<TraceResult>, shard: { index: number; count: number }): IterableIterator<TraceResult> {
  for (const r of results) if (shardOf(r.caseId, shard.count) === shard.index - 1) yield r;
}

/** The results to write out for a run's outcome: a shard of a shared run writes its own, as an unshared shard does. */
export function outcomeResults(store: Store, outcome: Pick<RunOutcome, 'meta' | 'shard' | 'shared'>): Iterable<TraceResult | string> {
  return outcome.shared && outcome.shard ? resultsOfShard(store.results(outcome.meta.runId), outcome.shard) : store.resultsJson(outcome.meta.runId);
}

/**
 * The metrics accumulator a run's settings ask for. `run` and `merge` both make theirs
 * here, so that a merged run sums its shards' results exactly as the unsharded run did.
 */
export function metricsAccumulator(settings: RunSettings): MetricsAccumulator {
  return createMetricsAccumulator({
    trials: settings.trials,
    ignoreArgs: settings.driftIgnoreArgs,
    ...(settings.phase ? { phase: settings.phase } : {}),
    ...(settings.review ? { review: settings.review } : {}),
    ...(settings.slaMs !== undefined ? { slaMs: settings.slaMs } : {}),
    ...(settings.decision ? { decision: settings.decision } : {}),
    ...(settings.policyRules ? { policyRules: settings.policyRules } : {}),
  });
}

/**
 * What a run's figures gain once all its results are in (the pairing with the baseline,
 * the cost trend against it, the noise floor), and the gate's verdict on them. `run` and
 * `merge` both finish here: one path from results to verdict.
 */
export function completeRun(metrics: RunMetrics, settings: RunSettings, results: () => Iterable<TraceResult>, noiseFloor?: NoiseFloor, coverage?: CoverageCounts | null, counts?: Counts): GateResult {
  if (settings.baseline) metrics.paired = pairWithBaseline(settings.baseline, results());
  if (metrics.phase && 'auto' in metrics.phase && settings.baseline?.perRunUsd !== undefined) {
    const { costUnknown } = settings.baseline;
    metrics.phase.auto.costTrend = { ...costTrend(metrics.cost.perRunUsd, settings.baseline.perRunUsd), ...(costUnknown ? { baselineCostUnknown: costUnknown } : {}) };
  }
  if (noiseFloor) metrics.noiseFloor = noiseFloor;
  return evaluateGate(settings.gate, metrics, coverage, counts?.noOutcome.candidate);
}

/** Draws the review sample per decision class over the whole run, and queues it (the inputs read again from the trace files). */
async function enqueueStratifiedSample(suite: ResolvedSuite, store: Store, meta: RunMeta, results: () => Iterable<TraceResult>, now: () => Date): Promise<void> {
  const strata: { traceId: string; stratum: string }[] = [];
  for (const r of results()) if (DECIDED_STATUSES.includes(r.status)) strata.push({ traceId: r.traceId, stratum: decisionClass(r.decision) });
  const drawn = new Set(stratifiedSample(strata, suite.review!.sampleRate, suite.review!.seed));
  for (const file of suite.traceFiles) {
    for await (const line of readTraceFile(file)) {
      if (!line.ok || !drawn.has(line.trace.id)) continue;
      for (const r of store.resultsOfTrace(meta.runId, line.trace.id)) {
        store.enqueueReview({
          runId: meta.runId, traceId: r.traceId, trial: r.trial, workflow: line.trace.workflow, phase: suite.phase,
          input: line.trace.input, steps: line.trace.steps, suggestion: r.decision, reference: r.reference.decision, enqueuedAt: now().toISOString(),
        });
      }
    }
  }
}

/**
 * An imported trace marked `metadata.replayable: false` (a tool step without arguments or a
 * result cannot be mocked) ends as an error with the importer's reason, without running the
 * candidate; a recorded candidate runs nothing, so it still compares such traces.
 */
function notReplayable(suite: ResolvedSuite, trace: Trace): CandidateOutcome | null {
  if (suite.candidate.kind === 'recorded' || trace.metadata?.replayable !== false) return null;
  const reason = typeof trace.metadata.notReplayableReason === 'string' ? trace.metadata.notReplayableReason : 'no reason given';
  return { status: 'error', decision: undefined, steps: [], error: { code: 'TRACE_NOT_REPLAYABLE', message: `trace ${trace.id} is marked not replayable: ${reason}` }, latencyMs: null };
}

/** Suggest: every outcome is a suggestion for a person; auto-with-review: the seeded sample. */
function needsReview(suite: ResolvedSuite, r: TraceResult): boolean {
  if (!DECIDED_STATUSES.includes(r.status)) return false;
  if (suite.phase === 'suggest') return true;
  // A stratified sample is drawn once every trace has run (enqueueStratifiedSample).
  if (suite.phase === 'auto-with-review' && !suite.review?.stratify) return inSample(r.traceId, suite.review?.sampleRate ?? 0.1, suite.review?.seed ?? 0);
  return false;
}

/**
 * Which of n shards a case belongs to: FNV-1a of its id, so that every machine of a CI
 * matrix splits the traces alike, and the trials of a case stay together.
 */
export function shardOf(caseId: string, count: number): number {
  return fnv1a32(caseId) % count;
}

/** Paired tests count traces, not trials. */
const pairable = traceOutcomes;

/** How much two independent runs of the same candidate disagree: the noise a real change must exceed. */
/**
 * The noise floor: two independent runs of the same candidate, compared. It is the
 * baseline's candidate, run twice, where the baseline was stored with its candidate
 * and that candidate's files are as they were; otherwise this run's candidate, this
 * run and one more, and a warning says so.
 */
async function measureNoise(
  suite: ResolvedSuite,
  options: RunOptions,
  current: { meta: RunMeta; metrics: RunMetrics; results: () => Iterable<TraceResult> },
  recorder: ExchangeSink | undefined,
  warnings: string[],
): Promise<{ noiseFloor: NoiseFloor; evidence: NonNullable<RunSettings['noiseFloor']> }> {
  const again = (s: ResolvedSuite, replica: number, tag: string) =>
    runSuite(
      { ...s, candidateLabel: `${s.candidateLabel} (${tag})` },
      { ...options, noiseFloor: false, baseline: undefined, resume: undefined, runId: undefined, onProgress: undefined, replica, sharedRecorder: recorder },
    );
  const stored = options.baseline?.candidate;
  const baselineSuite = stored ? await withStoredCandidate(suite, stored.source, stored.hash, stored.label) : null;
  let first: { meta: RunMeta; metrics: RunMetrics };
  let second: RunOutcome;
  if (baselineSuite) {
    first = await again(baselineSuite, 1, 'A/A 1');
    second = await again(baselineSuite, 2, 'A/A 2');
  } else {
    if (options.baseline) {
      warnings.push(
        `the baseline's candidate cannot be run again (${stored ? 'its files have changed since its run' : 'the baseline does not say how'}): the noise floor is that of this run's candidate`,
      );
    }
    first = current;
    second = await again(suite, 1, 'A/A');
  }
  if (second.counts.total > 0 && noOutcome(second.counts) === second.counts.total) {
    warnings.push(`the A/A run ${second.meta.runId} reached no outcome on any trace: the noise floor is unknown`);
  }
  const subject = baselineSuite ? 'baseline' : 'candidate';
  const results = (run: { meta: RunMeta }) => Array.from(run === current ? current.results() : options.store.results(run.meta.runId));
  return {
    noiseFloor: { subject, ...noiseFloorOf(first.metrics, results(first), { runId: second.meta.runId, metrics: second.metrics }, options.store.results(second.meta.runId)) },
    evidence: { subject, runId: second.meta.runId, first: first === current ? null : results(first), second: results(second) },
  };
}

/** How much two independent runs of the same candidate disagree, from their results and figures. */
export function noiseFloorOf(first: RunMetrics, firstResults: Iterable<TraceResult>, second: { runId: string; metrics: RunMetrics }, secondResults: Iterable<TraceResult>): Omit<NoiseFloor, 'subject'> {
  const paired = pairResults(pairable(firstResults), pairable(secondResults));
  const flips = paired.regressions.length + paired.fixes.length;
  const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.abs(a - b));
  const tools = (m: RunMetrics) => Object.fromEntries(Object.entries(m.toolCallDrift.perTool).map(([name, t]) => [name, t.candidate]));
  return {
    runId: second.runId,
    pairs: paired.pairs.length,
    flips,
    selfDisagreement: paired.pairs.length === 0 ? null : flips / paired.pairs.length,
    agreementDelta: delta(first.agreement.rate, second.metrics.agreement.rate),
    effectsAgreementDelta: delta(first.effectsAgreement.rate, second.metrics.effectsAgreement.rate),
    costPerRunDelta: delta(first.cost.perRunUsd, second.metrics.cost.perRunUsd),
    p95LatencyDeltaMs: delta(first.latency.p95Ms, second.metrics.latency.p95Ms),
    sequenceSimilarityDelta: delta(first.toolCallDrift.meanSequenceSimilarity, second.metrics.toolCallDrift.meanSequenceSimilarity),
    toolJsd: jensenShannon(tools(first), tools(second.metrics)),
    spentUsd: second.metrics.cost.spentUsd,
  };
}

/** The paired figures of a run's results against its baseline's rows (trials collapsed to one per case on both sides). */
export function pairWithBaseline(baseline: NonNullable<RunSettings['baseline']>, results: Iterable<TraceResult>): PairedMetric {
  const paired = pairResults(collapseTrials(baseline.rows), pairable(results));
  return {
    baselineRunId: baseline.runId,
    ...(baseline.identity ? { baselineIdentity: baseline.identity } : {}),
    regressions: paired.regressions,
    fixes: paired.fixes,
    mcnemarMidP: mcnemarMidP(paired.regressions.length, paired.fixes.length),
    pairs: paired.pairs.length,
    lost: paired.lost,
    undecided: paired.undecided,
    unpaired: paired.unpaired,
  };
}

/** The baseline's suite and candidate, and whether its candidate is this run's (by identity hash). */
function baselineIdentity(baseline: Baseline, candidateHash: string): NonNullable<PairedMetric['baselineIdentity']> {
  return { suite: baseline.suite, candidate: baseline.identity, sameCandidate: baseline.identity ? baseline.identity.hash === candidateHash : null };
}

/** A result whose candidate output cannot be stored (not JSON: a BigInt, a cycle), as an error result that can. */
function unstorable(result: TraceResult, error: unknown): TraceResult {
  return {
    ...result,
    status: 'error',
    // Output that cannot be kept is the candidate's doing: it does not agree where there was something to agree with.
    agree: result.agree === null ? null : false,
    effectsAgree: result.effectsAgree === null ? null : false,
    cause: 'candidate',
    decision: null,
    steps: JSON.parse(JSON.stringify(result.steps, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as TraceResult['steps'],
    error: { code: 'CANDIDATE_OUTPUT_INVALID', message: `the candidate's output cannot be stored as JSON: ${(error as Error).message}` },
  };
}

/**
 * The run this process executes, new or resumed, with its lease: a run that another live
 * process is executing is refused (LeaseHeldError, naming the holder) before anything is read.
 */
function openRun(
  suite: ResolvedSuite,
  options: RunOptions,
  settings: RunSettings,
  now: () => Date,
  show: (file: string) => string,
  onLost: (error: Error) => void,
): { meta: RunMeta; resuming: boolean; lease: HeldLease; shared: boolean } {
  const { store } = options;
  const lease = (runId: string, shard?: number) => acquireRunLease(store, runId, { ...options.lease, onLost, ...(shard !== undefined ? { shard } : {}) });
  // A shard of a shared run: named by --run-id, or by --resume once shards have written into it.
  const sharedId = options.runId ?? (options.resume && options.shard && store.listShards(options.resume).length > 0 ? options.resume : undefined);
  if (sharedId !== undefined) {
    const bad = runIdProblem(sharedId);
    if (bad) throw new UsageError(`--run-id: ${bad}`, 'name the run the shards share with letters, digits and . _ - :, e.g. nightly-1234');
    if (!options.shard) throw new UsageError(`--run-id ${sharedId} names a run that shards share, and needs --shard i/n`, 'for example --run-id <id> --shard 1/3; without shards, leave --run-id out');
    return { ...openSharedRun(suite, { ...options, shard: options.shard }, settings, sharedId, newMeta(suite, options, now(), show), lease), shared: true };
  }
  if (options.resume) {
    const run = store.getRun(options.resume);
    if (!run) throw new NotFoundError(`no run ${options.resume} in the store`, 'list runs with `shadowgate runs`, or check --db');
    if (run.suite !== suite.name || run.suiteHash !== suite.suiteHash || run.candidateHash !== suite.candidateHash) {
      throw new UsageError(
        `run ${run.runId} was made with a different suite or candidate than ${suite.file}`,
        'a run can only be resumed with the suite, catalog and candidate it started with; start a new run instead',
      );
    }
    // Resumed on another share of the traces, a run would hold results of traces that are not its own (and miss some that are).
    const shards = store.listShards(run.runId);
    if (shards.length > 0) {
      throw new UsageError(`run ${run.runId} is shared by the shards of a ${shards[0]!.count}-way split, and --resume needs the shard: --shard i/${shards[0]!.count}`, `resume one shard with --resume ${run.runId} --shard i/${shards[0]!.count} (or --run-id ${run.runId} --shard i/${shards[0]!.count})`);
    }
    tracesUnchanged(run, settings);
    const share = shareOf(options);
    if (run.shard !== null && run.shard !== share) {
      throw new UsageError(
        `run ${run.runId} ran ${run.shard === '1/1' ? 'every trace (no --shard)' : `shard ${run.shard}`}; this resume would run ${share === '1/1' ? 'every trace' : `shard ${share}`}`,
        run.shard === '1/1' ? `resume it without --shard` : `resume it with --shard ${run.shard}`,
      );
    }
    const { finishedAt: _f, summary: _s, shard: _share, tracesHash: _t, ...meta } = run;
    return { meta, resuming: true, lease: lease(run.runId), shared: false };
  }
  const meta = newMeta(suite, options, now(), show);
  store.createRun({ ...meta, shard: shareOf(options), tracesHash: settings.tracesHash ?? null });
  return { meta, resuming: false, lease: lease(meta.runId), shared: false };
}

/**
 * Opens shard `options.shard` of the run `runId` that its shards share: the first shard to arrive
 * creates the run, with this suite's and candidate's hashes, and a later one must have the same
 * (else a UsageError naming both). The shard itself is then leased (one live writer per shard,
 * shards of one run at once); a shard that has started before is resumed.
 */
function openSharedRun(
  suite: ResolvedSuite,
  options: RunOptions & { shard: { index: number; count: number } },
  settings: RunSettings,
  runId: string,
  fresh: RunMeta,
  lease: (runId: string, shard?: number) => HeldLease,
): { meta: RunMeta; resuming: boolean; lease: HeldLease } {
  const { store, shard } = options;
  let run = store.getRun(runId);
  if (!run) {
    try {
      store.createRun({ ...fresh, runId, tracesHash: settings.tracesHash ?? null });
    } catch (error) {
      // Another shard created it first: it is used, as when it arrived earlier.
      if (!store.getRun(runId)) throw error;
    }
    run = store.getRun(runId)!;
  }
  if (run.suiteHash !== suite.suiteHash || run.candidateHash !== suite.candidateHash) {
    throw new UsageError(
      `run ${runId} was created by a shard of suite ${run.suite} (suite hash ${run.suiteHash}) with candidate ${run.candidate} (candidate hash ${run.candidateHash}); this shard runs suite ${suite.name} (suite hash ${suite.suiteHash}) with candidate ${suite.candidateLabel} (candidate hash ${suite.candidateHash})`,
      'every shard of a run runs the same suite, catalog and candidate: run this one with another --run-id',
    );
  }
  if (run.finishedAt !== null) throw new UsageError(`run ${runId} is finalized already (${run.finishedAt})`, 'start a new run with another --run-id');
  tracesUnchanged(run, settings);
  const started = store.listShards(runId);
  const split = started.find((s) => s.count !== shard.count);
  if (split) throw new UsageError(`run ${runId} is split into ${split.count} shards (shard ${split.index}/${split.count} has started), not ${shard.count}`, `run every shard of the run with --shard i/${split.count}`);
  // A shard's settings are stored when it finishes: those of a running shard are checked by finalize (mergeShards).
  for (const other of started) {
    const theirs = (other.summary as ShardSummary | null)?.settings;
    const differ = theirs && settingsMismatch(settings, theirs);
    if (differ) {
      throw new UsageError(
        `run ${runId}: shard ${other.index}/${other.count} ran with ${differ.name} ${differ.theirs}; this shard runs with ${differ.name} ${differ.ours}`,
        'every shard of a run runs with the same settings (--trials, --baseline, the suite): run this one as the others did, or with another --run-id',
      );
    }
  }
  const resuming = started.some((s) => s.index === shard.index);
  store.startShard({ runId, index: shard.index, count: shard.count, startedAt: fresh.startedAt });
  const { finishedAt: _f, summary: _s, shard: _share, tracesHash: _t, ...meta } = run;
  return { meta, resuming, lease: lease(runId, shard.index) };
}

/**
 * A stored run goes on only over the trace contents it started on: its results are of those
 * traces, and a changed, added or removed line would be counted by results of another trace
 * (or of none). A run stored before the digest was kept (null) cannot be checked, and is
 * refused too: its results may be of other traces, or of another share of them.
 */
function tracesUnchanged(run: Pick<RunRecord, 'runId' | 'tracesHash'>, settings: RunSettings): void {
  if (run.tracesHash === null) {
    throw new UsageError(
      `run ${run.runId} was stored by an older shadowgate, which kept neither the digest of its trace files nor its share of them: its results cannot be checked against the trace files as they are now`,
      'start a new run (without --resume or --run-id)',
    );
  }
  if (run.tracesHash === settings.tracesHash) return;
  throw new UsageError(
    `run ${run.runId} was made on other trace contents than the suite's trace files hold now (trace files digest ${run.tracesHash.slice(0, 12)}…, now ${settings.tracesHash?.slice(0, 12) ?? 'none'}…): a line changed, or lines or files were added or removed since`,
    'its stored results are not of these traces: start a new run (without --resume or --run-id), or put the trace files back as they were',
  );
}

/**
 * A baseline's cost per run where every trace of it is of known cost; else null and why (some
 * traces' model calls of unknown cost: the mean over the others says nothing of them; or an older
 * shadowgate, which did not count calls without token usage as unpriced). Nothing without its figures.
 */
function baselineCost(baseline: Baseline): { perRunUsd?: number | null; costUnknown?: string } {
  const { metrics, unpricedCounted, runId } = baseline;
  if (!metrics) return {};
  const unpriced = metrics.cost.unpriced ?? 0;
  const why =
    unpricedCounted === false
      ? `the baseline ${runId} was made by an older shadowgate, whose cost per run left traces without token usage out uncounted`
      : unpriced > 0
        ? `the baseline ${runId} has ${unpriced} trace(s) whose model calls are of unknown cost`
        : metrics.cost.perRunUsd === null
          ? `the baseline ${runId} has no priced model usage`
          : null;
  return why ? { perRunUsd: null, costUnknown: why } : { perRunUsd: metrics.cost.perRunUsd };
}

/** The share of the suite's traces a run on its own runs (RunRecord.shard): `i/n` with `--shard i/n`, else `1/1`. */
function shareOf(options: Pick<RunOptions, 'shard'>): string {
  return options.shard ? `${options.shard.index}/${options.shard.count}` : '1/1';
}

/** The record of a new run of `suite`, started `startedAt`. */
function newMeta(suite: ResolvedSuite, options: RunOptions, startedAt: Date, show: (file: string) => string): RunMeta {
  return {
    runId: newRunId(startedAt),
    suite: suite.name,
    suiteFile: show(suite.file),
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
    candidateSource: suite.candidateSource,
    replica: options.replica ?? 0,
  };
}

/**
 * What a run id given by hand (`--run-id`) may be: 1 to 128 letters, digits, `.`, `_`, `-` and
 * `:`, as the ids runs get (`20261121-232412-3fa9c1`, `merged-…`) are; never empty, and nothing
 * that a shell, a URL or a report would read as something else.
 */
export const RUN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Why `id` is no run id (RUN_ID), or undefined when it is one. */
export function runIdProblem(id: string): string | undefined {
  return RUN_ID.test(id) ? undefined : `expected 1 to 128 letters, digits, '.', '_', '-' or ':', got ${id === '' ? 'an empty id' : JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id)}`;
}

/** `20261121-232412-3fa9c1`: sortable by time, unique enough for one store. */
function newRunId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The bytes of the ASCII whitespace `String.prototype.trim` removes, which make a line blank to the reader (`parseTraceLine`). */
const ASCII_BLANK = new Set([9, 11, 12, 13, 32]);

/**
 * The lines of the files that are not blank (only ASCII whitespace), as the reader counts them,
 * and the digest of the files (RunSettings.tracesHash): each one's path from the suite's folder
 * (with `/`, the same on every machine of a CI matrix) and its bytes.
 */
async function countLines(files: string[], suiteDir: string, show: (file: string) => string): Promise<{ lines: number; hash: string }> {
  let n = 0;
  const hash = createHash('sha256');
  for (const file of files) {
    try {
      hash.update(`${relative(suiteDir, file).split(sep).join('/')}\0`);
      n += await linesOf(file, hash);
      hash.update('\0');
    } catch (error) {
      throw unreadableTraceFile(show(file), error);
    }
  }
  return { lines: n, hash: hash.digest('hex') };
}

/** The lines of one trace file the reader reads as traces (blank ones left out); its bytes go to `hash`. */
async function linesOf(file: string, hash: ReturnType<typeof createHash>): Promise<number> {
  let n = 0;
  // Whether the line being read has something other than the ASCII whitespace the reader skips as blank (tab, VT, FF, CR, space).
  let pending = false;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    hash.update(buf);
    // Newlines found by the native search; a line is looked at byte by byte only until its first non-blank byte (most often its first).
    for (let at = 0; at < buf.length; ) {
      const newline = buf.indexOf(10, at);
      const end = newline === -1 ? buf.length : newline;
      for (let i = at; i < end && !pending; i++) pending = !ASCII_BLANK.has(buf[i]!);
      if (newline === -1) break;
      if (pending) n++;
      pending = false;
      at = newline + 1;
    }
  }
  if (pending) n++;
  return n;
}

/** A reader's error with its files as the run shows them, and what followed from it. */
function shownIssues(error: UnreadableTraceFile, show: (file: string) => string, after?: string): InputError {
  return new InputError(error.issues.map((i) => ({ ...i, file: show(i.file), message: after ? `${i.message}; ${after}` : i.message })));
}

/**
 * `--strict`: every line of every trace file (the candidate's recorded traces too)
 * must be a valid trace with an id of its own, checked before anything runs.
 */
async function assertAllLinesValid(suite: ResolvedSuite, show: (file: string) => string): Promise<void> {
  const issues: Issue[] = [];
  const check = async (files: string[]) => {
    const ids = new Map<string, string>();
    for (const file of files) {
      try {
        for await (const line of readTraceFile(file)) {
          if (!line.ok) {
            issues.push(...line.issues.map((i) => ({ ...i, file: show(i.file) })));
            continue;
          }
          const key = `${line.trace.id}#${line.trace.trial ?? 0}`;
          const first = ids.get(key);
          if (first) issues.push({ file: show(file), line: line.line, path: 'id', message: `duplicate trace id ${line.trace.id} (first at ${first})` });
          else ids.set(key, `${show(file)}:${line.line}`);
        }
      } catch (error) {
        // A file gone since the suite was loaded is one more problem to report with the others.
        if (!(error instanceof UnreadableTraceFile)) throw error;
        issues.push(...shownIssues(error, show).issues);
      }
    }
  };
  await check(suite.traceFiles);
  if (suite.candidate.kind === 'recorded') await check(suite.candidate.traceFiles);
  if (issues.length > 0) throw new InputError(issues, 'drop --strict to run the valid lines and report the others');
}
