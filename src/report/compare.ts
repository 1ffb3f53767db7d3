import type { Comparison } from '../run/compare.js';

import { noOutcome, safetyViolationTotal } from '../metrics/summary.js';
import { ms, pct, pValue as p, usd } from './format.js';
import { forTerminal, mdText } from './escape.js';

const HEAD = ['candidate', 'agreement', '95% CI', 'effects', 'tool JSD', 'cost/run', 'p95 latency', 'errors', 'safety', 'blocked', 'policy', 'run'];
/** What the safety and policy columns count, said under the table. */
const LEGEND =
  'safety: safety violations of every kind (schema, duplicate effects, blocked requests, denied capabilities, stray requests); ' +
  "blocked: requests the sandbox blocked; policy: breaches of the suite's policy rules (n/a without a policy)";

/**
 * One row per candidate: the side-by-side figures, with its safety and policy counts beside
 * its agreement, so that a candidate that agrees but made blocked requests or broke a rule
 * does not read as clean. Pure.
 */
export function comparisonRows(c: Comparison): string[][] {
  return c.runs.map(({ name, outcome: { metrics: m, counts, meta } }) => [
    name,
    pct(m.agreement.rate),
    m.agreement.ci95 ? `${pct(m.agreement.ci95[0])}–${pct(m.agreement.ci95[1])}` : 'n/a',
    pct(m.effectsAgreement.rate),
    m.toolCallDrift.jsd === null ? 'n/a' : m.toolCallDrift.jsd.toFixed(3),
    usd(m.cost.perRunUsd),
    ms(m.latency.p95Ms),
    String(noOutcome(counts)),
    String(safetyViolationTotal(m.safetyViolations)),
    String(m.safetyViolations.blockedRequests),
    m.policyViolations ? String(m.policyViolations.total) : 'n/a',
    meta.runId,
  ]);
}

function pairRows(c: Comparison): string[][] {
  return c.pairwise.map((x) => [`${x.a} vs ${x.b}${x.over === 'effects' ? ' (effects)' : ''}`, String(x.pairs), String(x.aOnly), String(x.bOnly), p(x.midP)]);
}
const PAIR_HEAD = ['pair', 'pairs', 'only the first agrees', 'only the second agrees', 'McNemar mid-p (two-sided)'];

/** Said under the pair table when a pair was judged on its effects. */
const effectsNote = (c: Comparison) =>
  c.pairwise.some((x) => x.over === 'effects') ? '(effects): no trace holds a reference decision, so the pair is judged on effects agreement (write calls against the reference actions)' : undefined;

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The comparison in the terminal. Pure. */
export function renderComparison(c: Comparison): string {
  const rows = (r: string[][]) => r.map((row) => row.map(forTerminal));
  return `${forTerminal(c.suite)}: ${c.runs.length} candidates on the same traces\n\n${table(HEAD, rows(comparisonRows(c)))}\n${LEGEND}\n\n${table(PAIR_HEAD, rows(pairRows(c)))}\n${effectsNote(c) ? `${effectsNote(c)}\n` : ''}`;
}

/** The comparison as Markdown (a PR comment, a report). Pure. */
export function renderComparisonMarkdown(c: Comparison): string {
  const md = (head: string[], rows: string[][]) =>
    [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(mdText).join(' | ')} |`)].join('\n');
  return `## ${mdText(c.suite)}: candidates compared\n\n${md(HEAD, comparisonRows(c))}\n\n${LEGEND}.\n\n### Trace by trace\n\n${md(PAIR_HEAD, pairRows(c))}\n${effectsNote(c) ? `\n${effectsNote(c)}.\n` : ''}`;
}

/** The comparison as JSON (`shadowgate.compare/v1`). Pure. */
export function comparisonDocument(c: Comparison) {
  return {
    schema: 'shadowgate.compare/v1',
    suite: c.suite,
    candidates: c.runs.map(({ name, outcome }) => ({
      name,
      runId: outcome.meta.runId,
      candidate: outcome.meta.candidate,
      counts: outcome.counts,
      metrics: outcome.metrics,
      gate: outcome.gate,
    })),
    pairwise: c.pairwise,
  };
}
