import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator } from '../metrics/summary.js';
import type { TraceResult } from '../replay/types.js';
import type { Comparison } from '../run/compare.js';
import type { RunOutcome } from '../run/run-suite.js';
import { aResult } from '../testing/builders.js';
import { comparisonRows, renderComparison, renderComparisonMarkdown } from './compare.js';

/** A candidate's run as compare holds it: its metrics folded from these results by the run's own accumulator. */
function runOf(name: string, results: TraceResult[], policyRules?: string[]): Comparison['runs'][number] {
  const acc = createMetricsAccumulator(policyRules ? { policyRules } : {});
  for (const r of results) acc.add(r);
  const outcome = { meta: { runId: `run-${name}` }, counts: acc.counts(), metrics: acc.finish() } as unknown as RunOutcome;
  return { name, outcome };
}

const blocked = (i: number) => ({ kind: 'blocked_request' as const, step: 0, request: { method: 'GET', url: `https://example.test/${i}` }, message: `GET https://example.test/${i} blocked` });

describe('compare: safety and policy beside agreement', () => {
  // Made-up results: both candidates agree on all 20 traces; "noisy" made a blocked request on each, and broke a rule on 3.
  const clean = Array.from({ length: 20 }, (_, i) => aResult(`t${i}`));
  const noisy = clean.map((r, i) =>
    aResult(r.traceId, { violations: [blocked(i), ...(i < 3 ? [{ kind: 'policy_violation' as const, rule: 'no-refunds', step: 1, tool: 'issue_refund', message: 'refunds need a human' }] : [])] }),
  );
  const c: Comparison = { suite: 'refund-triage', runs: [runOf('current', clean, ['no-refunds']), runOf('noisy', noisy, ['no-refunds'])], pairwise: [] };

  it('gives each candidate its safety violations, blocked requests and policy breaches', () => {
    const [current, other] = comparisonRows(c);
    // candidate, agreement, …, errors, safety, blocked, policy, run
    expect(current!.slice(-4)).toEqual(['0', '0', '0', 'run-current']);
    expect(other!.slice(-4)).toEqual(['20', '20', '3', 'run-noisy']);
    expect(other![1]).toBe(current![1]); // the same agreement: only the new columns tell them apart
  });

  it('says n/a for policy without a policy, never a clean 0', () => {
    const [row] = comparisonRows({ ...c, runs: [runOf('current', clean)] });
    expect(row!.at(-2)).toBe('n/a');
  });

  it('shows the columns and what they count in the terminal and the Markdown', () => {
    const text = renderComparison(c);
    expect(text).toMatch(/^candidate .* errors {2}safety {2}blocked {2}policy {2}run/m);
    expect(text).toMatch(/^noisy .* 20 +20 +3 +run-noisy$/m);
    expect(text).toContain('blocked: requests the sandbox blocked');
    expect(renderComparisonMarkdown(c)).toContain('| errors | safety | blocked | policy | run |');
    expect(renderComparisonMarkdown(c)).toMatch(/\| noisy \|.*\| 20 \| 20 \| 3 \| run-noisy \|/);
  });
});
