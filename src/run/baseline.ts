import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InputError, NotFoundError, UsageError, type Issue } from '../errors.js';
import { toPairable, type PairableResult } from '../metrics/paired.js';
import { zodIssues } from '../trace/zod-issues.js';
import type { CandidateSource, ResolvedSuite } from '../suite/load.js';
import type { RunMetrics } from '../metrics/summary.js';
import { isEvidenceRun, type RunRecord, type Store } from '../store/types.js';

export interface Baseline {
  runId: string;
  /** The suite the baseline ran; null where a results file does not say. */
  suite: string | null;
  /** The baseline's candidate as it ran (label and identity hash); null where a results file does not say. */
  identity: { label: string; hash: string } | null;
  rows: PairableResult[];
  /** How to run the baseline's candidate again, where the baseline says. */
  candidate?: { source: CandidateSource; hash: string; label: string };
  /** The baseline's own figures, for reports that show what moved. */
  metrics?: RunMetrics;
  /**
   * Whether its `metrics.cost.unpriced` counts every trace of unknown cost: false for a run made
   * by a shadowgate that counted only calls of a model without a price (not those without token
   * usage), told by the digest of its trace files that such a run did not keep yet.
   */
  unpricedCounted?: boolean;
}

const CandidateInfoSchema = z.object({
  label: z.string(),
  hash: z.string(),
  source: z.object({ raw: z.unknown(), dir: z.string() }).nullable().optional(),
});

function identityOf(info: unknown): Baseline['identity'] {
  const parsed = CandidateInfoSchema.safeParse(info);
  return parsed.success ? { label: parsed.data.label, hash: parsed.data.hash } : null;
}

function candidateOf(info: unknown): Baseline['candidate'] {
  const parsed = CandidateInfoSchema.safeParse(info);
  if (!parsed.success || !parsed.data.source) return undefined;
  return { source: parsed.data.source as CandidateSource, hash: parsed.data.hash, label: parsed.data.label };
}

/** What a baseline's results must carry; `caseId` defaults to the trace id and `trial` to 0, as in a trace. */
const BaselineRowSchema = z.object({
  traceId: z.string(),
  caseId: z.string().optional(),
  trial: z.number().int().nonnegative().optional(),
  agree: z.boolean().nullable(),
});

/**
 * The baseline a run is paired with: a `shadowgate.run/v1` results file, a run in
 * the store by its id, or `ref:<branch or commit>`, the latest finished run of the
 * suite made at that git ref (as stored with each run). With `suite`, a baseline of
 * another suite is refused (UsageError, exit 2): its traces and comparator are not this
 * run's, so its flips would mean nothing. Another candidate is the normal case.
 */
export function loadBaseline(ref: string, store: Store, cwd: string, suite?: string): Baseline {
  const baseline = findBaseline(ref, store, cwd, suite);
  if (suite !== undefined && baseline.suite !== null && baseline.suite !== suite) {
    throw new UsageError(
      `--baseline ${ref} is a run of suite ${baseline.suite}, not of ${suite}`,
      'a baseline is a run of the same suite (another candidate, or an earlier version of this one); pass a run of this suite',
    );
  }
  return baseline;
}

/** What `--baseline` chose for a suite, and, for `auto`, how it chose, in words for the run's output. */
export interface ChosenBaseline {
  baseline: Baseline | undefined;
  note: string | null;
}

/**
 * `--baseline <value>` for one suite: `auto` (autoBaseline), or an explicit run id, `ref:` or
 * results file (loadBaseline, which refuses what it cannot find).
 */
export function chooseBaseline(ref: string, store: Store, cwd: string, suite: Pick<ResolvedSuite, 'name' | 'candidateSource'>, env: Readonly<Record<string, string | undefined>>): ChosenBaseline {
  return ref === 'auto' ? autoBaseline(store, suite, env.GITHUB_BASE_REF) : { baseline: loadBaseline(ref, store, cwd, suite.name), note: null };
}

/**
 * `--baseline auto`, for CI: the latest finished whole run (not a shard, not a noise floor's A/A
 * replica) of the same suite and the same candidate kind (module, tool-loop, recorded) made on the
 * base branch, `GITHUB_BASE_REF`, which GitHub sets on pull requests. Another kind's run (a recorded
 * shadow log beside a module) is no baseline of this candidate. Where there is no base branch (a push)
 * or no such run, the run goes without a baseline and the note says why; a gate check that needs one
 * (regressions) is then inconclusive, never passed.
 */
export function autoBaseline(store: Store, suite: Pick<ResolvedSuite, 'name' | 'candidateSource'>, baseRef: string | undefined): ChosenBaseline {
  const kind = suite.candidateSource.raw.kind;
  if (!baseRef) return { baseline: undefined, note: 'auto: none (no base branch: GITHUB_BASE_REF is not set, as on a push)' };
  const run = store
    .listRuns({ suite: suite.name })
    .find((r) => isEvidenceRun(r) && !isShard(r) && r.gitRef === baseRef && kindOf(r) === kind);
  if (!run) return { baseline: undefined, note: `auto: none (no finished run of ${suite.name} with a ${kind} candidate on ${baseRef} in the store)` };
  return { baseline: fromStore(run.runId, store), note: `auto: run ${run.runId} of ${run.candidate} on ${baseRef} (${run.gitCommit?.slice(0, 10) ?? 'commit unknown'}, ${run.startedAt})` };
}

/** A shard covers part of the traces only: never a baseline of a whole run. */
const isShard = (run: RunRecord) => Boolean((run.summary as { shard?: unknown } | null)?.shard);

/** The kind of a stored run's candidate; null for runs stored before their candidate was kept. */
function kindOf(run: RunRecord): string | null {
  const kind = (run.candidateSource?.raw as { kind?: unknown } | null | undefined)?.kind;
  return typeof kind === 'string' ? kind : null;
}

function findBaseline(ref: string, store: Store, cwd: string, suite?: string): Baseline {
  if (ref.startsWith('ref:')) {
    const gitRef = ref.slice(4);
    const run = store
      .listRuns({ suite })
      .find((r) => r.finishedAt !== null && !isShard(r) && (r.gitRef === gitRef || (gitRef.length >= 7 && r.gitCommit?.startsWith(gitRef))));
    if (!run) throw new NotFoundError(`no finished run of ${suite ?? 'this suite'} at git ref ${gitRef} in the store`, 'run the suite on that ref first (CI can cache .shadowgate/), or pass a results file');
    return fromStore(run.runId, store);
  }
  const file = resolve(cwd, ref);
  if (existsSync(file)) {
    let doc: { schema?: unknown; runId?: unknown; suite?: unknown; results?: unknown; candidate?: unknown } | null;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
    } catch (error) {
      throw new InputError([{ file: ref, message: `not valid JSON: ${(error as Error).message}` }]);
    }
    if (doc === null || typeof doc !== 'object' || doc.schema !== 'shadowgate.run/v1' || !Array.isArray(doc.results)) {
      throw new InputError([{ file: ref, path: 'schema', message: 'expected shadowgate.run/v1 results (written by `shadowgate run --json`)' }]);
    }
    const rows: PairableResult[] = [];
    const issues: Issue[] = [];
    doc.results.forEach((raw: unknown, i) => {
      const parsed = BaselineRowSchema.safeParse(raw);
      if (!parsed.success) issues.push(...zodIssues(parsed.error, ref, 0).map(({ line: _l, ...issue }) => ({ ...issue, path: `results.${i}${issue.path ? `.${issue.path}` : ''}` })));
      else rows.push({ traceId: parsed.data.traceId, caseId: parsed.data.caseId ?? parsed.data.traceId, trial: parsed.data.trial ?? 0, agree: parsed.data.agree });
    });
    if (issues.length > 0) throw new InputError(issues.slice(0, 20), 'a baseline file is the --json output of a run');
    const shard = (doc as { shard?: unknown }).shard;
    if (shard !== null && shard !== undefined) throw notWhole(ref, `the results of shard ${shardText(shard)} alone`, 'merge the shards first (`shadowgate merge … --json merged.json`) and pass the merged file');
    const suiteName = typeof doc.suite === 'string' ? doc.suite : (doc.suite as { name?: unknown } | null | undefined)?.name;
    return {
      runId: String(doc.runId),
      suite: typeof suiteName === 'string' ? suiteName : null,
      identity: identityOf(doc.candidate),
      rows,
      candidate: candidateOf(doc.candidate),
      metrics: (doc as { metrics?: RunMetrics }).metrics,
      unpricedCounted: typeof (doc as { settings?: { tracesHash?: unknown } }).settings?.tracesHash === 'string',
    };
  }
  const run = store.getRun(ref);
  if (!run) {
    throw new NotFoundError(`--baseline ${ref} is neither a results file nor a run in the store`, 'list stored runs with `shadowgate runs`, pass ref:<branch>, or pass a file written by --json');
  }
  // An unfinished run holds the results of the traces it got to: pairing with it would count the rest as new traces, not as the baseline's.
  if (run.finishedAt === null) {
    throw new UsageError(`--baseline ${ref} is a run that did not finish (${store.countResults(ref)} results stored): it is no baseline`, `finish it with \`shadowgate run <suite> --resume ${ref}\`, or name a finished run`);
  }
  if (isShard(run)) throw notWhole(ref, `shard ${shardText((run.summary as { shard?: unknown }).shard)} of a split run`, 'pass the whole run: a run finalized from its shards, a merged results file, or ref:<branch>');
  return fromStore(ref, store);
}

/** `2/3`, from a shard as runs and results files keep it (`{ index, count }`, or already `i/n`). */
function shardText(shard: unknown): string {
  const s = shard as { index?: unknown; count?: unknown } | null;
  return typeof shard === 'object' && s !== null && s.index !== undefined ? `${String(s.index)}/${String(s.count)}` : String(shard);
}

/** A shard covers part of the traces: its pairs would leave the rest of the run uncompared, and a regressions check would pass on the part. */
function notWhole(ref: string, what: string, hint: string): UsageError {
  return new UsageError(`--baseline ${ref} is ${what}, not a whole run: it is no baseline`, hint);
}

function fromStore(runId: string, store: Store): Baseline {
  const run = store.getRun(runId)!;
  return {
    runId: run.runId,
    suite: run.suite,
    identity: { label: run.candidate, hash: run.candidateHash },
    rows: Array.from(store.results(runId), toPairable),
    candidate: candidateOf({ label: run.candidate, hash: run.candidateHash, source: run.candidateSource }),
    metrics: (run.summary as { metrics?: RunMetrics } | null)?.metrics,
    unpricedCounted: run.tracesHash !== null,
  };
}
