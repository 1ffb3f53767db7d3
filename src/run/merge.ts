import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { withRunLevelViolations, type NoiseFloor, type RunLevelViolation, type RunMetrics } from '../metrics/summary.js';
import { mergeCoverage, uniqueIssues } from '../gate/coverage.js';
import type { TraceResult } from '../replay/types.js';
import { resultKey } from '../replay/types.js';
import { completeRun, metricsAccumulator, noiseFloorOf, settingsMismatch, type RunOutcome, type RunSettings } from './run-suite.js';

/** What merge reads of a shard: its results file, or (finalize) its stored record and results. */
export interface RunDocument {
  schema: string;
  runId: string;
  suite: { name: string; file: string; hash: string };
  phase: string;
  candidate: { label: string; hash: string; model: string | null; promptVersion: string | null; source: unknown };
  reference: string;
  startedAt: string;
  finishedAt: string;
  git: { commit: string | null; ref: string | null };
  shard: { index: number; count: number } | null;
  settings?: RunSettings;
  /** Only what results cannot give again: the violations outside any trace. */
  metrics?: { safetyViolations?: { runLevel?: RunLevelViolation[] } };
  issues: RunOutcome['issues'];
  coverage?: RunOutcome['coverage'];
  warnings: string[];
  modelCalls: RunOutcome['modelCalls'];
  results: TraceResult[];
}

/**
 * Merges the results files of a sharded run (`run --shard i/n --json …`) into one
 * run whose metrics and verdict are those the unsharded run would have had: the
 * results are summed anew, not the shards' figures averaged, by the code `run` uses
 * (metricsAccumulator, completeRun), with the settings each shard carries (phase,
 * review sample, SLA, the baseline's pairing rows, the noise floor's A/A results).
 */
export function mergeRuns(files: readonly string[], now: Date): { outcome: RunOutcome; results: TraceResult[] } {
  return mergeShards(files.map((file) => readRun(file)), files, now);
}

/**
 * mergeRuns over shards already read: `files` names each (in errors); the merged run is
 * `merged-<first shard's run id>` unless `runId` names it (finalize: the run the shards share).
 */
export function mergeShards(docs: readonly RunDocument[], files: readonly string[], now: Date, runId?: string): { outcome: RunOutcome; results: TraceResult[] } {
  const [first] = docs;
  if (!first) throw new InputError([{ file: '(none)', message: 'merge needs at least one results file' }]);
  const problems = docs.flatMap((d, i) => {
    const file = files[i]!;
    if (!d.settings) return [{ file, path: 'settings', message: 'written by an older shadowgate: run the shard again' }];
    // Without the digest of the trace files nothing says the shards read the same traces (nor that their figures count unknown costs as such).
    if (d.settings.tracesHash === undefined) return [{ file, path: 'settings.tracesHash', message: 'written by an older shadowgate, which kept no digest of the trace files it read: run the shard again' }];
    if (d.suite.hash !== first.suite.hash) return [{ file, path: 'suite.hash', message: `another suite than ${files[0]} (${d.suite.name})` }];
    if (d.candidate.hash !== first.candidate.hash) return [{ file, path: 'candidate.hash', message: `another candidate than ${files[0]}` }];
    // The same trials, baseline and suite settings on every shard: else the results of two different runs would make one verdict.
    const differ = first.settings && settingsMismatch(d.settings, first.settings);
    if (differ?.name === 'tracesHash') {
      return [{ file, path: 'settings.tracesHash', message: `read other trace contents than ${files[0]} (trace files digest ${differ.ours.slice(0, 12)}…, there ${differ.theirs.slice(0, 12)}…): every shard must read the same trace files, unchanged` }];
    }
    if (differ) return [{ file, path: `settings.${differ.name}`, message: `run with ${differ.name} ${differ.ours}, ${files[0]} with ${differ.theirs}: run every shard with the same settings (--trials, --baseline, the suite)` }];
    return [];
  });
  // Every shard of one split, once: a missing shard would leave its traces out of the verdict.
  const count = first.shard?.count;
  const indices = docs.map((d) => d.shard?.index).filter((i): i is number => i !== undefined).sort((a, b) => a - b);
  if (count === undefined || docs.some((d) => d.shard?.count !== count)) {
    problems.push({ file: files.join(', '), path: 'shard', message: 'every file must be a shard (run --shard i/n) of the same split' });
  } else if (indices.join() !== Array.from({ length: count }, (_, i) => i + 1).join()) {
    problems.push({ file: files.join(', '), path: 'shard', message: `the shards given are ${indices.join(', ')} of ${count}; merge needs each of 1…${count} once` });
  }
  if (problems.length > 0) throw new InputError(problems, 'merge the shards of one run: the same suite and candidate, every shard once');
  const { noiseFloor: _shardNoise, ...settings } = first.settings!;
  const accumulator = metricsAccumulator(settings);
  const seen = new Set<string>();
  const results: TraceResult[] = [];
  docs.forEach((d, i) => {
    for (const r of d.results) {
      const key = resultKey(r.traceId, r.trial);
      if (seen.has(key)) throw new InputError([{ file: files[i]!, path: 'results', message: `trace ${r.traceId} (trial ${r.trial}) is in two of the files: are they shards of one split?` }]);
      seen.add(key);
      results.push(r);
      accumulator.add(r);
    }
  });
  // In the order an unsharded run reads them: by trace file, then line.
  results.sort((a, b) => (a.source.file === b.source.file ? a.source.line - b.source.line : a.source.file < b.source.file ? -1 : 1) || a.trial - b.trial);
  // Strays and denials outside any trace are on no result: each shard's are carried over.
  const metrics = accumulator.finish();
  metrics.safetyViolations = withRunLevelViolations(metrics.safetyViolations, docs.flatMap((d) => d.metrics?.safetyViolations?.runLevel ?? []));
  // Every shard reads, and reports, every bad line: each counts once.
  const coverage = mergeCoverage(docs);
  const noiseFloor = mergedNoiseFloor(docs.map((d) => d.settings!), settings, metrics, results);
  const gate = completeRun(metrics, settings, () => results, noiseFloor, coverage, accumulator.counts());
  const sum = (pick: (d: RunDocument) => number) => docs.reduce((total, d) => total + pick(d), 0);
  const outcome: RunOutcome = {
    meta: {
      runId: runId ?? `merged-${first.runId}`,
      suite: first.suite.name,
      suiteFile: first.suite.file,
      suiteHash: first.suite.hash,
      candidateHash: first.candidate.hash,
      candidate: first.candidate.label,
      model: first.candidate.model,
      promptVersion: first.candidate.promptVersion,
      phase: first.phase,
      reference: first.reference,
      gitCommit: first.git.commit,
      gitRef: first.git.ref,
      startedAt: docs.map((d) => d.startedAt).sort()[0]!,
      candidateSource: (first.candidate.source ?? null) as RunOutcome['meta']['candidateSource'],
      replica: 0,
    },
    finishedAt: now.toISOString(),
    counts: accumulator.counts(),
    metrics,
    gate,
    issues: uniqueIssues(docs.flatMap((d) => d.issues)),
    ...(coverage ? { coverage } : {}),
    warnings: docs.flatMap((d) => d.warnings),
    resumed: 0,
    trials: settings.trials,
    settings,
    modelCalls: {
      requests: sum((d) => d.modelCalls.requests),
      cacheHits: sum((d) => d.modelCalls.cacheHits),
      cassetteHits: sum((d) => d.modelCalls.cassetteHits),
      network: sum((d) => d.modelCalls.network),
      retries: sum((d) => d.modelCalls.retries),
    },
  };
  return { outcome, results };
}

/**
 * The noise floor over every shard: each shard's A/A results summed as one A/A run, and
 * compared with the merged run (or the merged first A/A run) as `run` compares them.
 */
function mergedNoiseFloor(shards: readonly RunSettings[], settings: RunSettings, metrics: RunMetrics, results: readonly TraceResult[]): NoiseFloor | undefined {
  const carried = shards.map((s) => s.noiseFloor);
  const [head] = carried;
  if (!head || carried.some((c) => !c)) return undefined;
  // The A/A runs ran without a baseline: their figures are summed without one.
  const { baseline: _b, ...plain } = settings;
  const summed = (pick: (c: NonNullable<RunSettings['noiseFloor']>) => TraceResult[]) => {
    const all = carried.flatMap((c) => pick(c!));
    const acc = metricsAccumulator(plain);
    for (const r of all) acc.add(r);
    return { results: all, metrics: acc.finish() };
  };
  const second = summed((c) => c.second);
  const first = head.first === null ? { results, metrics } : summed((c) => c.first ?? []);
  return { subject: head.subject, ...noiseFloorOf(first.metrics, first.results, { runId: head.runId, metrics: second.metrics }, second.results) };
}

function readRun(file: string): RunDocument {
  let doc: RunDocument;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as RunDocument;
  } catch (error) {
    throw new InputError([{ file, message: `cannot read results: ${(error as Error).message}` }]);
  }
  if (doc?.schema !== 'shadowgate.run/v1' || !Array.isArray(doc.results)) {
    throw new InputError([{ file, path: 'schema', message: 'expected shadowgate.run/v1 results (written by `shadowgate run --json`)' }]);
  }
  return doc;
}
