/**
 * Every error shadowgate throws on purpose is a ShadowgateError with a stable
 * code. Expected errors (bad input, bad config) are printed without a stack;
 * InternalError and anything unknown are printed as bugs.
 */
import { forTerminal } from './report/escape.js';
export type ErrorCode =
  | 'SG_CONFIG_INVALID'
  | 'SG_INPUT_INVALID'
  | 'SG_USAGE'
  | 'SG_NOT_FOUND'
  | 'SG_STORE'
  | 'SG_OFF_TRACE'
  | 'SG_BUDGET_EXCEEDED'
  | 'SG_LOOP_DETECTED'
  | 'SG_TOOL_FAILED'
  | 'SG_WRITE'
  | 'SG_INTERNAL';

export class ShadowgateError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** One problem in a user's file, located as precisely as we can. */
export interface Issue {
  file: string;
  line?: number;
  /** 1-based column, where the problem is a place in the text (a YAML syntax error). */
  column?: number;
  /** Dotted key path inside the record, e.g. `steps.2.args`. */
  path?: string;
  message: string;
}

export function formatIssue(issue: Issue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  const path = issue.path ? ` ${issue.path}:` : '';
  return `${where}:${path} ${issue.message}`;
}

/** A suite, tool catalog or other config file that does not validate. Lists every issue at once. */
export class ConfigError extends ShadowgateError {
  readonly issues: Issue[];
  constructor(issues: Issue[], hint?: string) {
    super('SG_CONFIG_INVALID', `invalid configuration:\n${issues.map((i) => `  ${forTerminal(formatIssue(i))}`).join('\n')}`, {
      hint,
    });
    this.issues = issues;
  }
}

/** Input data (traces, results files) that cannot be used. */
export class InputError extends ShadowgateError {
  readonly issues: Issue[];
  constructor(issues: Issue[], hint?: string) {
    super('SG_INPUT_INVALID', `invalid input:\n${issues.map((i) => `  ${forTerminal(formatIssue(i))}`).join('\n')}`, { hint });
    this.issues = issues;
  }
}

export class UsageError extends ShadowgateError {
  constructor(message: string, hint?: string) {
    super('SG_USAGE', message, { hint });
  }
}

export class NotFoundError extends ShadowgateError {
  constructor(message: string, hint?: string) {
    super('SG_NOT_FOUND', message, { hint });
  }
}

export class StoreError extends ShadowgateError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('SG_STORE', message, options);
  }
}

/** A result for this (run, key) is stored already: in a run, a duplicate trace id. */
export class DuplicateResultError extends StoreError {
  constructor(runId: string, key: string) {
    super(`result ${key} is already stored for run ${runId}`);
  }
}

/** The run's lease is held by another writer: this process may not write into the run. */
export class LeaseLostError extends StoreError {
  constructor(
    readonly runId: string,
    /** Who holds the lease now, in words. */
    readonly holder: string,
  ) {
    super(`run ${runId} is no longer this process's to write: it is held by ${holder}`, {
      hint: 'another `--resume` took the run over after this process went quiet; its results are kept',
    });
  }
}

export class InternalError extends ShadowgateError {
  constructor(message: string, cause?: unknown) {
    super('SG_INTERNAL', message, { cause });
  }
}

/** What a replay stops a candidate with; thrown into candidate code, and final once raised. */
export abstract class ReplayStop extends ShadowgateError {
  /** The status the trace ends with. */
  abstract readonly status: 'diverged' | 'budget_exceeded' | 'loop_detected';
}

/** The candidate called a tool that has no recording, ack or stub: the trace ends `diverged`. */
export class OffTraceError extends ReplayStop {
  readonly status = 'diverged';
  readonly tool: string;
  constructor(tool: string, reason: string) {
    super('SG_OFF_TRACE', `off-trace call of ${tool}: ${reason}`, {
      hint: 'record this call in the trace, or give the tool a `stub` in the catalog, or use `mocks.match: by-order`',
    });
    this.tool = tool;
  }
}

/** A budget (steps, wall time, tokens, cost) ran out: the trace ends `budget_exceeded`. */
export class BudgetExceededError extends ReplayStop {
  readonly status = 'budget_exceeded';
  readonly budget: string;
  constructor(budget: string, message: string) {
    super('SG_BUDGET_EXCEEDED', message);
    this.budget = budget;
  }
}

/** The same tool was called with the same arguments too many times in a row: the trace ends `loop_detected`. */
export class LoopDetectedError extends ReplayStop {
  readonly status = 'loop_detected';
  constructor(tool: string, times: number) {
    super('SG_LOOP_DETECTED', `${tool} called ${times} times in a row with the same arguments`, {
      hint: 'raise budgets.maxRepeatedCalls if the repetition is intended',
    });
  }
}

/** The recorded call failed, so the mocked one fails the same way. The candidate may handle it. */
export class ToolCallError extends ShadowgateError {
  readonly tool: string;
  readonly recordedError: unknown;
  constructor(tool: string, recordedError: unknown) {
    super('SG_TOOL_FAILED', `${tool} failed: ${typeof recordedError === 'string' ? recordedError : JSON.stringify(recordedError)}`);
    this.tool = tool;
    this.recordedError = recordedError;
  }
}

/** True for errors a user can fix (exit 2); false for bugs (exit 3). */
export function isExpectedError(error: unknown): error is ShadowgateError {
  return error instanceof ShadowgateError && error.code !== 'SG_INTERNAL';
}
