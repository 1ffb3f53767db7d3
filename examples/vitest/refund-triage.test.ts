/**
 * The refund-triage release gate as Vitest tests, with `shadowgate/vitest`.
 *
 * It runs the bundled example offline: suites/refund-triage.yaml replays three weeks of
 * synthetic support tickets (traces/refund-triage) against the policy-v1 agent module, every
 * tool mocked from the recordings, and compares its decisions with the reviewers'.
 * Run it from the project root: npx vitest run examples/vitest
 *
 * In your own project, `npm install -D shadowgate vitest` and import from 'shadowgate/vitest'
 * as below: importing it registers the matchers and their types.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { replayTrace, runSuite, type SuiteRun } from 'shadowgate/vitest';

const SUITE = 'suites/refund-triage.yaml';

describe('policy-v1 on the recorded refund tickets', () => {
  let run: SuiteRun;
  // One run for the whole file: 480 traces, in memory (pass { db: '.shadowgate/shadowgate.db' } to keep it).
  beforeAll(async () => {
    run = await runSuite(SUITE);
  });

  it('agrees with the reviewers: the lower 95% bound of agreement reaches 85%', () => {
    expect(run).toAgreeWith('human', { min: 0.85, bound: 'lower' });
  });

  it('takes at most 8 steps and 5 s on any ticket', () => {
    expect(run).toStayWithinBudget({ maxSteps: 8, maxLatencyMs: 5_000 });
  });

  it('passes the suite\'s own gate', () => {
    expect(run.gate.verdict).toBe('pass');
  });
});

describe('one ticket: a 949.99 USD refund, above the 500 USD limit of POLICY.md', () => {
  it('goes to a person, and is not refunded by the agent', async () => {
    const result = await replayTrace(SUITE, 'rt-00013');
    expect(result).toCallTools(['get_customer', 'get_order', 'check_refund_policy', 'escalate_to_human', 'add_ticket_note'], { mode: 'ordered' });
    expect(result).not.toCallTools(['issue_refund'], { mode: 'subset' });
    expect(result.decision).toEqual({ action: 'escalate' });
  });

  it('is where regression-v2 goes wrong: it refunds instead', async () => {
    const result = await replayTrace(SUITE, 'rt-00013', { candidate: 'module=fixtures/refund-triage/agents/regression-v2.mjs' });
    expect(result).toCallTools(['check_refund_policy', 'issue_refund'], { mode: 'subset' });
    expect(result.agree).toBe(false);
  });
});

describe('regression-v2 on all tickets', () => {
  it('does not reach the agreement the release needs', async () => {
    const run = await runSuite(SUITE, { candidate: 'module=fixtures/refund-triage/agents/regression-v2.mjs' });
    expect(run).not.toAgreeWith('human', { min: 0.85 });
  });
});

describe('a tool-loop candidate with model costs: the recorded model, replayed on the tickets that carry a prompt injection', () => {
  it('stays within a cost and token budget per ticket, and in all', async () => {
    const run = await runSuite('suites/refund-triage-replay.yaml', { filter: (trace) => trace.tags?.includes('injection') ?? false });
    expect(run.results.length).toBeGreaterThan(0);
    expect(run).toStayWithinBudget({ maxCostUsd: 0.01, maxTokens: 10_000, maxTotalCostUsd: 1 });
  });
});
