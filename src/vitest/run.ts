import { resolve } from 'node:path';
import { NotFoundError } from '../errors.js';
import type { TraceResult } from '../replay/types.js';
import { runSuite as runResolvedSuite, type RunOutcome } from '../run/run-suite.js';
import { createMemoryStore } from '../store/memory.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { loadSuite, withCandidate } from '../suite/load.js';
import type { Trace } from '../trace/schema.js';

export interface RunSuiteOptions {
  /**
   * Another candidate than the suite's, written as `shadowgate compare --candidate` takes it:
   * `module=agents/v3.mjs`, `model=openai:gpt-4.1,prompt=prompts/triage.v5.hbs`, or one value
   * whose form says what it is. Paths are relative to `cwd`.
   */
  candidate?: string;
  /** Where results are stored: `:memory:` (nothing written) or a SQLite file, as `--db`. @default ':memory:' */
  db?: string;
  /** Run each trace k times (overrides the suite's `trials`). */
  trials?: number;
  /** Run only the traces this returns true for. */
  filter?: (trace: Trace) => boolean;
  /** Traces replayed at once. @default 4 */
  concurrency?: number;
  /** Child processes a module candidate runs in. @default the machine's available cores */
  workers?: number;
  /** `replay-only`: model calls answered only from this cassette (no network); `record`: write one. */
  cassette?: { mode: 'record' | 'replay-only'; file: string };
  /** Answer model calls from the response cache in the store. @default true */
  cache?: boolean;
  /** Where API keys are read from. @default process.env */
  env?: Record<string, string | undefined>;
  /** The folder the suite file, `candidate`, `db` and `cassette` are relative to. @default process.cwd() */
  cwd?: string;
}

/** A finished run: what `shadowgate run --json` reports, with every trace's result. */
export interface SuiteRun extends RunOutcome {
  results: TraceResult[];
}

/**
 * Runs a suite as `shadowgate run` does (a module candidate in its pool of child processes) and returns its metrics, gate and
 * results, for the matchers (`toAgreeWith`, `toStayWithinBudget`, and `toCallTools` on one
 * result). Bad suites throw the same located `ConfigError` the CLI prints.
 * @example const run = await runSuite('suites/refund-triage.yaml', { candidate: 'module=agents/v3.mjs' });
 */
export async function runSuite(suiteFile: string, options: RunSuiteOptions = {}): Promise<SuiteRun> {
  const cwd = options.cwd ?? process.cwd();
  let suite = await loadSuite(resolve(cwd, suiteFile));
  if (options.candidate) suite = await withCandidate(suite, options.candidate, options.candidate, cwd);
  const db = options.db ?? ':memory:';
  const store: Store = db === ':memory:' ? createMemoryStore() : openStore(db, cwd);
  try {
    const outcome = await runResolvedSuite(suite, {
      store,
      cwd,
      ...(options.trials !== undefined ? { trials: options.trials } : {}),
      ...(options.filter ? { filter: options.filter } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.cassette ? { cassette: { ...options.cassette, file: resolve(cwd, options.cassette.file) } } : {}),
      ...(options.cache !== undefined ? { cache: options.cache } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    return { ...outcome, results: [...store.results(outcome.meta.runId)] };
  } finally {
    store.close();
  }
}

/**
 * Replays one trace of a suite (by its id) against the suite's candidate, or `candidate`,
 * and returns its result, for `toCallTools` and `toStayWithinBudget`.
 * @example expect(await replayTrace('suites/refund-triage.yaml', 'rt-00040')).toCallTools(['escalate_to_human'], { mode: 'subset' });
 */
export async function replayTrace(suiteFile: string, traceId: string, options: Omit<RunSuiteOptions, 'filter' | 'trials'> = {}): Promise<TraceResult> {
  const run = await runSuite(suiteFile, { ...options, trials: 1, filter: (trace) => trace.id === traceId });
  const result = run.results[0];
  if (!result) throw new NotFoundError(`no trace ${traceId} in the traces of ${suiteFile}`, 'trace ids are the `id` of each line of the suite\'s trace files');
  return result;
}
