import { setMaxListeners } from 'node:events';
import { BudgetExceededError, ReplayStop, ShadowgateError } from '../errors.js';
import type { Violation } from './guard.js';
import type { ReplaySession } from './session.js';
import type { CandidateStep, ResultError, ResultStatus } from './types.js';

/** What a candidate did on one trace, before it is compared with anything. */
export interface CandidateOutcome {
  status: ResultStatus;
  decision: unknown;
  output?: unknown;
  steps: CandidateStep[];
  error: ResultError | null;
  latencyMs: number | null;
  /** Safety rules the candidate broke on this trace. */
  violations?: Violation[];
}

/** How a candidate's own code ended, before the harness's stops are taken into account. */
export type CandidateEnd = Omit<CandidateOutcome, 'steps' | 'latencyMs' | 'error'> & { error?: ResultError | null };

/** Runs a candidate on one trace inside a replay session. */
export type CandidateRunner = (session: ReplaySession, trial: number) => Promise<CandidateOutcome>;

/**
 * Runs `body` under the session's wall-clock budget and turns how it ended into
 * a status: a stop (off-trace, budget, loop) wins over anything the candidate did after it.
 */
export async function supervise(
  session: ReplaySession,
  maxWallMs: number | undefined,
  body: (signal: AbortSignal) => Promise<CandidateEnd>,
): Promise<CandidateOutcome> {
  const controller = new AbortController();
  // Each model call of the SDKs listens on the signal; a long loop has many.
  setMaxListeners(1000, controller.signal);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (maxWallMs === undefined) return;
    timer = setTimeout(() => {
      const stop = session.halt(new BudgetExceededError('maxWallMs', `wall-clock budget of ${maxWallMs} ms exhausted`));
      controller.abort(stop);
      reject(stop);
    }, maxWallMs);
  });
  let end: CandidateEnd;
  try {
    end = await Promise.race([body(controller.signal), deadline]);
  } catch (error) {
    // A stop raised outside a mocked tool (a replay model with no more recorded steps) ends the run the same way.
    const stop = findStop(error);
    if (stop) session.halt(stop);
    end = { status: 'error', decision: undefined, error: errorData(error, 'CANDIDATE_THREW') };
  } finally {
    clearTimeout(timer);
  }
  const steps = [...session.steps];
  const latencyMs = candidateLatency(performance.now() - started, session.modelWaitMs, steps);
  const violations = session.violations.length > 0 ? { violations: [...session.violations] } : {};
  if (session.stop) {
    return { status: session.stop.status, decision: undefined, steps, error: errorData(session.stop, session.stop.code), latencyMs, ...violations };
  }
  return { ...end, error: end.error ?? null, steps, latencyMs, ...violations };
}

/**
 * The latency the candidate would have in production: its own time (the harness's wall
 * time less the wait for model answers) plus each step's latency, that of the model's
 * answer (original, when replayed or cached) and that of the recorded tool call its mock
 * stood in for. A recorded candidate's latency is the same sum over its recorded steps.
 */
export function candidateLatency(wallMs: number, modelWaitMs: number, steps: readonly CandidateStep[]): number {
  return Math.max(0, wallMs - modelWaitMs) + steps.reduce((sum, s) => sum + (s.latencyMs ?? 0), 0);
}

/** A stop, even one wrapped by an SDK as the cause of its own error. */
function findStop(error: unknown): ReplayStop | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ReplayStop) return e;
  }
  return undefined;
}

/**
 * An error as data: our own errors keep their code (found down the cause chain, where
 * an SDK wraps them); a provider's HTTP error its status; a connection failure or a
 * timeout says so, with the underlying cause.
 */
export function errorData(error: unknown, fallbackCode: string): ResultError {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    // A budget stop says which budget: the run's shared one is not the candidate's doing (noOutcomeCause).
    if (e instanceof ShadowgateError) return { code: e.code, message: e.message, ...(e instanceof BudgetExceededError ? { budget: e.budget } : {}) };
  }
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number') return { code: `PROVIDER_HTTP_${status}`, message: error.message, name: error.name };
    if (/APIConnection(Timeout)?Error/.test(error.name)) {
      const cause = (error as { cause?: { message?: string; code?: string } }).cause;
      const why = cause ? `: ${cause.code ? `${cause.code} ` : ''}${cause.message ?? ''}`.trimEnd() : '';
      return { code: error.name.includes('Timeout') ? 'PROVIDER_TIMEOUT' : 'PROVIDER_CONNECTION', message: `${error.message}${why}`, name: error.name };
    }
    return { code: fallbackCode, message: error.message, name: error.name };
  }
  return { code: fallbackCode, message: typeof error === 'object' && error !== null ? safeStringify(error) : String(error) };
}

function safeStringify(value: object): string {
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
