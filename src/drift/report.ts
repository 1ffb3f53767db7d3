import type { Issue } from '../errors.js';
import type { DriftWindows } from './analysis.js';
import type { DriftConfig } from './config.js';
import { judgeDrift, type DriftJudgement } from './thresholds.js';

export const DRIFT_SCHEMA_ID = 'shadowgate.drift/v1';

/** Where the observations came from. */
export type DriftSource =
  | { kind: 'traces'; files: string[] }
  | {
      kind: 'runs';
      db: string;
      runs: number;
      /**
       * Suggest runs (of those in the windows) stored before runs kept their review settings: their
       * override rate counts the review queue's verdicts alone, not the run's own. Absent when none.
       */
      queueOnly?: number;
      /**
       * Results left out as more results of a case already counted (`--trials`, recorded trials,
       * several traces of one case): each case counts once, by its first result (lowest trial, then trace id), so that a window's
       * runs are cases, the unit of every floor. Absent when none.
       */
      laterTrials?: number;
    };

/** What was read and left out, and why. */
export interface DriftSkipped {
  /** Runs before the first window or after the last (and outside the reference window). */
  outside: number;
  /** Traces with no (or an unreadable) `recordedAt`: they cannot be placed in time. */
  undated: number;
  /** Traces of another workflow than `--workflow`. */
  otherWorkflow: number;
  /** Lines that are not valid traces (see `issues`). */
  invalid: number;
}

/** The drift report (`shadowgate.drift/v1`), as written by `--json`: every window's figures, the comparisons and the verdict. */
export interface DriftReport extends Omit<DriftWindows, 'outside'>, DriftJudgement {
  schema: typeof DRIFT_SCHEMA_ID;
  generatedAt: string;
  source: DriftSource;
  workflow: string | null;
  /** The window length as given (`7d`). */
  window: string;
  thresholds: DriftConfig['thresholds'];
  skipped: DriftSkipped;
  /** The first problems found in the input (at most 20; `skipped.invalid` counts them all). */
  issues: Issue[];
}

export const MAX_ISSUES = 20;

/**
 * Invalid lines are missing evidence: any of them may belong to the windows judged, so a pass
 * becomes inconclusive, naming how many and the first (a crossed threshold still fails).
 */
function withUnreadLines(judgement: DriftJudgement, invalid: number, issues: readonly Issue[]): DriftJudgement {
  if (invalid === 0 || judgement.verdict !== 'pass' || judgement.checks.length === 0) return judgement;
  const first = issues[0];
  const where = first ? ` (the first at ${first.file}${first.line === undefined ? '' : `:${first.line}`})` : '';
  return { ...judgement, verdict: 'inconclusive', reason: `${invalid} trace line(s) could not be read${where}, and may belong to the windows judged: missing evidence; mend or remove them (\`--strict\` lists them all)` };
}

/** Puts the windows, the judgement of the latest one and what was skipped into one report. Pure. */
export function buildDriftReport(
  windows: DriftWindows,
  context: { generatedAt: Date; source: DriftSource; workflow: string | null; window: string; config: DriftConfig; skipped: Omit<DriftSkipped, 'outside'>; issues: Issue[] },
): DriftReport {
  const { outside, ...spans } = windows;
  const latest = windows.windows.at(-1);
  const reference = windows.reference?.figures ?? windows.windows.at(-2)?.figures ?? null;
  return {
    schema: DRIFT_SCHEMA_ID,
    generatedAt: context.generatedAt.toISOString(),
    source: context.source,
    workflow: context.workflow,
    window: context.window,
    ...spans,
    ...withUnreadLines(judgeDrift(latest, reference, context.config.thresholds, context.config.minTraces), context.skipped.invalid, context.issues),
    thresholds: context.config.thresholds,
    skipped: { ...context.skipped, outside },
    issues: context.issues.slice(0, MAX_ISSUES),
  };
}
