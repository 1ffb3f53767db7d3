/**
 * Tool calls answered in the candidate's own process, checked by the harness.
 *
 * A mocked tool call is pure code over the trace's recorded answers: sending each one to the
 * harness and waiting for its reply cost a round trip between two processes per call (seven
 * for a bundled trace), which was most of what the worker pool added to a run. So a child runs
 * the same `ReplaySession` the harness does, over the same catalog, policy, mock options and
 * budgets, answers each call at once, and tells the harness which call it answered and what
 * kind of answer it gave. The harness replays every call through its own session, in the
 * order they were made: its session, not the child's, is what the trace's result is built
 * from (steps, effects, violations, stops), and a child whose answer is not the one the harness
 * gives is refused and killed as any message the harness would not accept (a candidate that
 * tampers with its process's mocks fools only itself, and is caught).
 *
 * The child holds no recorded arguments: recordings are keyed by a digest of the call's
 * identity, so that candidate code cannot read the calls (a refund's amount, say) the recorded
 * agent made, only the answers of calls it makes itself. It never holds the trace's outcome,
 * reference or model steps.
 *
 * Once a trace sends a request through the harness (a model call, a catalog http route), its
 * session changes in the harness in ways the child does not see (model steps count against the
 * step budget, a token budget may stop it): from then on its tool calls go to the harness and
 * back, as every call did before.
 */
import { hash } from 'node:crypto';
import { createPolicy } from '../../policy/evaluate.js';
import type { Policy } from '../../policy/schema.js';
import { callKey } from '../../trace/canonical.js';
import type { ToolCatalog } from '../../trace/catalog.js';
import type { Trace } from '../../trace/schema.js';
import { createToolGuard, type ToolGuard } from '../guard.js';
import { mockToolbox, type MockOptions, type Recording } from '../mock-tools.js';
import { ReplaySession, RunBudget, type Budgets } from '../session.js';

/** What a child needs to answer tool calls as the harness does: sent once, when it starts. */
export interface LocalSetup {
  catalog: ToolCatalog;
  policy?: Policy;
  mocks: MockOptions;
  /** The budgets a tool call can reach without a model call. */
  budgets: Pick<Budgets, 'maxSteps' | 'maxRepeatedCalls'>;
}

/** One recorded tool call as a child holds it: the digest of its identity, and its answer. */
export interface RecordedAnswer {
  name: string;
  key: string;
  result?: unknown;
  error?: unknown;
}

/** The digest a recording is keyed by in a child: of its identity, never the arguments themselves. */
export function digestKey(key: string): string {
  // The one-shot hash: a third of createHash's cost, on every recorded and every answered call.
  return hash('sha256', key, 'base64url');
}

/** The answers a child gets for one trace, from the harness's own recordings of it. */
export function recordedAnswers(recordings: readonly Recording[]): RecordedAnswer[] {
  return recordings.map(({ key, step }) => ({
    name: step.name,
    key: digestKey(key),
    ...(step.error !== undefined ? { error: step.error } : { result: step.result }),
  }));
}

/** The child's side: one guard for the run, and a session per trace over its recorded answers. */
export function localAnswers(setup: LocalSetup) {
  const guard: ToolGuard = createToolGuard(setup.catalog, setup.policy ? createPolicy(setup.policy) : undefined);
  const keyOf = (name: string, args: Record<string, unknown>) => digestKey(callKey(name, args, setup.mocks.ignoreArgs));
  return {
    session(trace: { id: string; workflow: string }, answers: readonly RecordedAnswer[]): ReplaySession {
      const recordings = answers.map(({ name, key, result, error }): Recording => ({ key, step: { type: 'tool', name, args: {}, result, error } }));
      const shell: Trace = { schema: 'shadowgate.trace/v1', id: trace.id, workflow: trace.workflow, input: null, steps: [] } as unknown as Trace;
      return new ReplaySession(shell, mockToolbox(recordings, setup.catalog, setup.mocks, keyOf), setup.budgets, new RunBudget(), guard);
    },
  };
}
