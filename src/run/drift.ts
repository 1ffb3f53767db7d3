import { realpathSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { spelledOut } from '../suite/braces.js';
import { InputError, NotFoundError, type Issue } from '../errors.js';
import { createDriftAnalysis } from '../drift/analysis.js';
import { DriftConfigSchema, type DriftConfig } from '../drift/config.js';
import { observeResult, observeTrace, traceTime } from '../drift/observation.js';
import { buildDriftReport, MAX_ISSUES, type DriftReport, type DriftSource } from '../drift/report.js';
import { planWindows, type Against } from '../drift/windows.js';
import { latestVerdicts, suggestVerdict } from '../phases/review-queue.js';
import { caseFirsts, type SuggestSettings } from '../metrics/summary.js';
import { resultKey } from '../replay/types.js';
import { isEvidenceRun, type Store } from '../store/types.js';
import { loadYamlFile } from '../suite/yaml.js';
import { readTraceFile, type TraceLine } from '../trace/reader.js';

export interface DriftOptions {
  config: DriftConfig;
  workflow: string | null;
  /** The window length as given (`7d`), and in ms. */
  window: string;
  windowMs: number;
  windows: number;
  against: Against;
  /** End of the last window (inclusive); default: the latest time seen. */
  until?: number;
  cwd: string;
  now: Date;
  /** Any invalid trace line is an error (InputError, exit 2), listed with its file and line, instead of being left out. */
  strict?: boolean;
}

/** Reads and validates a drift config file; every problem is reported at once with its file, line and key (ConfigError, exit 2). */
export async function loadDriftConfig(file: string): Promise<DriftConfig> {
  return (await loadYamlFile(file, DriftConfigSchema)).value;
}

/**
 * Drift over production trace files (or folders of them, or globs): windows by
 * `recordedAt`. Traces are streamed; without `until` the files are read twice, once
 * for the latest `recordedAt` and once to fold the windows. Memory does not grow
 * with the number of lines.
 */
export async function driftOverTraces(paths: readonly string[], options: DriftOptions): Promise<DriftReport> {
  // A file named twice (`w{1,1}.jsonl`, a folder and a file in it) is read once: its runs are not counted twice.
  const files = uniqueFiles(await traceFiles(paths, options.cwd));
  const until = options.until ?? (await latestRecordedAt(files, options.workflow, options.cwd));
  if (until === null) {
    throw new InputError([{ file: paths.join(' '), message: `no trace${options.workflow ? ` of workflow ${options.workflow}` : ''} has a recordedAt` }], 'drift places traces in time by their recordedAt; pass traces that carry one');
  }
  const windows = planWindows(until, options.windowMs, options.windows);
  const analysis = createDriftAnalysis(windows, options.against);
  const skipped = { undated: 0, otherWorkflow: 0, invalid: 0 };
  const issues: Issue[] = [];
  const observe = { compare: options.config.compare, pricing: options.config.pricing };
  for (const file of files) {
    for await (const line of datedTraces(file, options.cwd)) {
      if (!line.ok) {
        skipped.invalid++;
        if (issues.length < MAX_ISSUES) issues.push(...line.issues);
        continue;
      }
      if (options.workflow && line.trace.workflow !== options.workflow) {
        skipped.otherWorkflow++;
        continue;
      }
      const observation = observeTrace(line.trace, observe);
      if (observation) analysis.add(observation);
      else skipped.undated++;
    }
  }
  if (options.strict && skipped.invalid > 0) {
    const more = skipped.invalid > issues.length ? `; ${skipped.invalid} invalid line(s) in all, the first ${issues.length} listed` : '';
    throw new InputError(issues, `drop --strict to leave the invalid lines out and report the rest${more}`);
  }
  const source: DriftSource = { kind: 'traces', files: files.map((f) => show(f, options.cwd)) };
  return buildDriftReport(analysis.finish(), { ...context(options), source, skipped, issues });
}

/**
 * Drift across the finished runs in the store (of the suite named `workflow`, if
 * given), each run's results placed at its start time. A noise floor's A/A replicas
 * are left out: they repeat a run, they are not a new one. A suggest run's results count in
 * the override rate as `phase` counts them (suggestVerdict: the review queue's latest verdict,
 * else the run's own, recorded or simulated with the settings it kept); a suggest run stored
 * before runs kept their settings counts its queue verdicts alone, and the source says how many
 * such runs there are. Results of other phases count the queue's verdicts alone (their runs have no override rate).
 */
export function driftOverRuns(store: Store, db: string, options: DriftOptions): DriftReport {
  const runs = store.listRuns(options.workflow ? { suite: options.workflow } : {}).filter(isEvidenceRun);
  if (runs.length === 0) {
    throw new NotFoundError(`no finished run${options.workflow ? ` of suite ${options.workflow}` : ''} in ${db}`, 'run a suite first (`shadowgate run`), or pass trace files to drift over');
  }
  const times = runs.map((r) => Date.parse(r.startedAt));
  const windows = planWindows(options.until ?? Math.max(...times), options.windowMs, options.windows);
  const analysis = createDriftAnalysis(windows, options.against);
  let queueOnly = 0;
  let laterTrials = 0;
  runs.forEach((run, i) => {
    const at = times[i]!;
    if (!analysis.covers(at)) {
      analysis.addOutside(store.countResults(run.runId));
      return;
    }
    const verdicts = latestVerdicts(store, run.runId);
    const settings = run.phase === 'suggest' ? ((run.summary as { settings?: SuggestSettings } | null)?.settings ?? null) : null;
    if (run.phase === 'suggest' && !settings) queueOnly++;
    // A case's trials are not independent runs: its first (earlierInCase) stands for it, as in the run's own figures.
    const firsts = caseFirsts<string>();
    for (const result of store.results(run.runId)) firsts.offer(result, () => resultKey(result.traceId, result.trial));
    const counted = new Set(firsts.values());
    for (const result of store.results(run.runId)) {
      const key = resultKey(result.traceId, result.trial);
      if (!counted.has(key)) {
        laterTrials++;
        continue;
      }
      counted.delete(key);
      const queued = verdicts.get(key);
      const observation = observeResult(result, at, settings ? suggestVerdict(result, settings, queued) : (queued?.verdict ?? null));
      if (observation) analysis.add(observation);
    }
  });
  const source: DriftSource = { kind: 'runs', db, runs: runs.length, ...(queueOnly > 0 ? { queueOnly } : {}), ...(laterTrials > 0 ? { laterTrials } : {}) };
  return buildDriftReport(analysis.finish(), { ...context(options), source, skipped: { undated: 0, otherWorkflow: 0, invalid: 0 }, issues: [] });
}

function context(options: DriftOptions) {
  return { generatedAt: options.now, workflow: options.workflow, window: options.window, config: options.config };
}

const show = (file: string, cwd: string) => relative(cwd, file) || file;

/** Files, folders (every .jsonl in them, recursively) and globs → trace files, sorted within each. */
async function traceFiles(paths: readonly string[], cwd: string): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    const info = await stat(abs).catch(() => undefined);
    if (info?.isDirectory()) {
      const entries = await readdir(abs, { withFileTypes: true, recursive: true });
      files.push(...entries.filter((e) => e.isFile() && extname(e.name) === '.jsonl').map((e) => join(e.parentPath, e.name)).sort());
    } else if (info) files.push(abs);
    else {
      // Braces are spelt out as a suite's are (the glob library reads a stepped range `w{1..5..2}` as its ends only):
      // each name spelt out must be there; the wildcards among them are one search that must find a file.
      const { names, problem } = spelledOut(p);
      if (problem) throw new NotFoundError(`${p} cannot say which files it names: ${problem}`, 'name the files, or use a wildcard');
      const hint = 'pass JSONL trace files, folders of them, or a glob';
      if (names.length === 1 && !isDynamicPattern(p)) throw new NotFoundError(`no trace file or folder matches ${p}`, hint);
      const dynamic = names.filter((name) => isDynamicPattern(name));
      const named = names.filter((name) => !isDynamicPattern(name));
      if (named.length > 0) files.push(...(await traceFiles(named, cwd).catch(rethrowNaming(p))));
      const matched = dynamic.length > 0 ? await glob(dynamic, { cwd, absolute: true }) : [];
      if (dynamic.length > 0 && matched.length === 0) throw new NotFoundError(`no trace file or folder matches ${p}`, hint);
      files.push(...matched.sort());
    }
  }
  if (files.length === 0) throw new NotFoundError(`no .jsonl trace file in ${paths.join(', ')}`);
  return files;
}

/** Each file once, by what it is (a link to a file named too is that file), in the order first named. */
function uniqueFiles(files: readonly string[]): string[] {
  const seen = new Set<string>();
  return files.filter((file) => {
    let real = file;
    try {
      real = realpathSync(file);
    } catch {
      // read as named: the reader says what is wrong with it
    }
    return !seen.has(real) && Boolean(seen.add(real));
  });
}

/** A name a brace pattern spelt out that is not there, said with the pattern that named it. */
const rethrowNaming = (pattern: string) => (error: unknown) => {
  if (error instanceof NotFoundError) throw new NotFoundError(`${error.message}, which ${pattern} names`, error.hint);
  throw error;
};

/**
 * The lines of a trace file as the reader gives them (paths shown relative to `cwd`),
 * with a `recordedAt` that is not a date turned into an issue on that field: both
 * passes over the files see the same valid lines.
 */
async function* datedTraces(file: string, cwd: string): AsyncGenerator<TraceLine> {
  const shown = show(file, cwd);
  for await (const line of readTraceFile(file)) {
    if (!line.ok) {
      yield { ...line, file: shown, issues: line.issues.map((i) => ({ ...i, file: shown })) };
      continue;
    }
    const time = traceTime(line.trace);
    if (time.ok || time.problem === 'missing') yield { ...line, file: shown };
    else yield { ok: false, file: shown, line: line.line, issues: [{ file: shown, line: line.line, path: 'recordedAt', message: `not a date: ${JSON.stringify(line.trace.recordedAt)}` }] };
  }
}

/** The latest `recordedAt` of the (workflow's) valid traces; null when none has one. */
async function latestRecordedAt(files: readonly string[], workflow: string | null, cwd: string): Promise<number | null> {
  let latest: number | null = null;
  for (const file of files) {
    for await (const line of datedTraces(file, cwd)) {
      if (!line.ok || (workflow && line.trace.workflow !== workflow)) continue; // reported by the second pass
      const time = traceTime(line.trace);
      if (time.ok && (latest === null || time.at > latest)) latest = time.at;
    }
  }
  return latest;
}
