/**
 * `shadowgate/vitest`: run suites inside Vitest and assert on them.
 * Importing this module registers the matchers with Vitest's `expect`.
 * @example
 * import { expect, it } from 'vitest';
 * import { runSuite } from 'shadowgate/vitest';
 * it('agrees with the reviewers', async () => {
 *   expect(await runSuite('suites/refund-triage.yaml')).toAgreeWith('human', { min: 0.85 });
 * });
 */
import { expect } from 'vitest';
import { agreeWith, callTools, stayWithinBudget, type AgreementExpectation, type Budget, type Reference, type ToolCallMode } from './matchers.js';

export { runSuite, replayTrace, type RunSuiteOptions, type SuiteRun } from './run.js';
export type { AgreementExpectation, Budget, Reference, RunLike, ToolCallMode } from './matchers.js';
export type { TraceResult } from '../replay/types.js';

/** The matchers, for `expect.extend` on another `expect` than Vitest's global one (this module already extends that). */
export const shadowgateMatchers = {
  toAgreeWith(this: { isNot: boolean }, received: unknown, reference: Reference, expectation: AgreementExpectation) {
    return agreeWith(received, reference, expectation, this.isNot);
  },
  toCallTools(this: { isNot: boolean }, received: unknown, tools: readonly string[], options?: { mode?: ToolCallMode }) {
    return callTools(received, tools, options, this.isNot);
  },
  toStayWithinBudget(this: { isNot: boolean }, received: unknown, budget: Budget) {
    return stayWithinBudget(received, budget, this.isNot);
  },
};

expect.extend(shadowgateMatchers);

declare module 'vitest' {
  // The type parameter must match Vitest's own declaration of Matchers.
  interface Matchers<T = any> {
    /**
     * The run's agreement with the reference reaches `min`: on the lower end of its 95%
     * Wilson interval (`bound: 'lower'`, the default) or on the rate itself (`bound: 'point'`).
     * The message gives the rate, the interval, n and the first disagreeing traces. A run with
     * nothing compared (n = 0) throws, with `.not` too.
     * @example expect(run).toAgreeWith('human', { min: 0.85, bound: 'lower' })
     */
    toAgreeWith(reference: Reference, expectation: AgreementExpectation): void;
    /**
     * One trace's tool calls, by name: `ordered` (default, exactly these in this order),
     * `unordered` (exactly these in any order) or `subset` (at least these).
     * @example expect(result).toCallTools(['get_order', 'issue_refund'], { mode: 'unordered' })
     */
    toCallTools(tools: readonly string[], options?: { mode?: ToolCallMode }): void;
    /**
     * Every limit holds: on one trace's result, or on each trace of a run (and on the run's
     * totals with `maxTotalCostUsd`, `maxTotalTokens`). A figure the run lacks cannot be judged: it throws, with `.not` too.
     * `maxLatencyMs` limits the estimated production latency (`latencyMs`), not the replay's wall time.
     * @example expect(run).toStayWithinBudget({ maxSteps: 12, maxLatencyMs: 5000 })
     */
    toStayWithinBudget(budget: Budget): void;
  }
}
