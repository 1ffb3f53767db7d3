import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InputError, NotFoundError, UsageError, type Issue } from '../errors.js';
import { toPairable, type PairableResult } from '../metrics/paired.js';
import { zodIssues } from '../trace/zod-issues.js';
import type { CandidateSource } from '../suite/load.js';
import type { RunMetrics } from '../metrics/summary.js';
import type { Store } from '../store/types.js';

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

function findBaseline(ref: string, store: Store, cwd: string, suite?: string): Baseline {
  if (ref.startsWith('ref:')) {
    const gitRef = ref.slice(4);
    const run = store
      .listRuns({ suite })
      // A shard covers part of the traces only: never a baseline of a whole run.
      .find((r) => r.finishedAt !== null && !(r.summary as { shard?: unknown } | null)?.shard && (r.gitRef === gitRef || (gitRef.length >= 7 && r.gitCommit?.startsWith(gitRef))));
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
    const suiteName = typeof doc.suite === 'string' ? doc.suite : (doc.suite as { name?: unknown } | null | undefined)?.name;
    return {
      runId: String(doc.runId),
      suite: typeof suiteName === 'string' ? suiteName : null,
      identity: identityOf(doc.candidate),
      rows,
      candidate: candidateOf(doc.candidate),
      metrics: (doc as { metrics?: RunMetrics }).metrics,
    };
  }
  if (!store.getRun(ref)) {
    throw new NotFoundError(`--baseline ${ref} is neither a results file nor a run in the store`, 'list stored runs with `shadowgate runs`, pass ref:<branch>, or pass a file written by --json');
  }
  return fromStore(ref, store);
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
  };
}
