import type { RunMetrics } from '../metrics/summary.js';
import type { RunOutcome } from '../run/run-suite.js';
import { DRY_RUN_MARK, inconclusiveReasons } from '../gate/gate.js';
import { interval, ms, noOutcomeApart, pct, pp, pValue, tracesRun, usd } from './format.js';
import { phaseHeadline, phaseLines } from './phase-lines.js';
import { CALLS_HEADER, reversibilityOf, reversibilityRows, workflowCapText } from './reversibility-lines.js';
import { baselineName } from './baseline-name.js';
import { policyLines, safetyLines } from './policy-lines.js';
import { shardLine } from './shard-line.js';
import { mdCode, mdText } from './escape.js';

const MARK = { pass: '✅', fail: '❌', inconclusive: '⚠️' } as const;

/**
 * The run as Markdown for a pull-request comment: the verdict first, then what
 * failed, the flips against the baseline and how the figures moved. Every value that can come
 * from a trace or a suite goes through `mdCode` (ids, tool names) or `mdText` (prose that names
 * them), so that nothing in a trace can add a heading, a link or HTML to the comment. Pure.
 */
export function renderMarkdownReport(outcome: RunOutcome, baseline?: RunMetrics): string {
  const { meta, metrics: m, gate, counts } = outcome;
  const lines: string[] = [];
  const failing = gate.checks.filter((c) => c.status !== 'pass' && !c.dryRun);
  const dryRuns = gate.checks.filter((c) => c.dryRun);
  const why = inconclusiveReasons(gate);
  const headline = phaseHeadline(m);
  const shard = shardLine(outcome);
  lines.push(
    gate.noChecks && gate.verdict === 'pass'
      ? `## ➖ shadowgate: ${mdText(meta.suite)}: no gate checks configured`
      : `## ${MARK[gate.verdict]} shadowgate: ${mdText(meta.suite)} ${gate.verdict.toUpperCase()}`,
    '',
    ...(why.length > 0 ? [`**Inconclusive because** ${why.map(mdText).join('; ')}`, ''] : []),
    ...(shard ? [`**This is ${mdText(shard)}.**`, ''] : []),
    `${mdText(meta.candidate)} vs ${mdText(meta.reference)} · ${meta.phase} phase · ${tracesRun(counts.total, outcome.trials)} · ${headline ? `${mdText(headline)} · ` : ''}agreement ${pct(m.agreement.rate)} ${interval(m.agreement.ci95, pct)}` +
      (m.agreementCompleted ? ` (completed only ${pct(m.agreementCompleted.rate)})` : '') +
      (m.paired ? ` · ${m.paired.regressions.length} regression(s), ${m.paired.fixes.length} fix(es) against ${mdCode(m.paired.baselineRunId)}` : ''),
    '',
  );
  // A suggest, auto-with-review or auto run is judged on its phase's figures: they lead.
  const phase = phaseLines(m);
  if (phase.length > 0) {
    lines.push(`### The ${meta.phase} phase`, '');
    for (const [label, text] of phase) lines.push(`- ${label ? `**${label}**: ` : ''}${mdText(text)}`);
    lines.push('');
  }
  const missing = noOutcomeApart(counts);
  if (missing.length > 0) lines.push(`No outcome: ${missing.map(mdText).join('; ')}.`, '');
  if (failing.length > 0) {
    lines.push('### Checks that did not pass', '', '| check | value | threshold | status | reason |', '|---|---|---|---|---|');
    const value = (x: number | null) => (x === null ? 'n/a' : Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString());
    for (const c of failing) lines.push(`| ${mdText(c.name)} | ${value(c.value)} | ${value(c.threshold)} | ${MARK[c.status]} ${c.status} | ${mdText(c.reason)} |`);
    lines.push('');
  }
  if (dryRuns.length > 0) {
    lines.push(`### Dry-run checks (measured, not in the verdict)`, '');
    for (const c of dryRuns) lines.push(`- ${MARK[c.status]} **${mdText(c.name)}** ${c.status}: ${mdText(c.reason)} ${DRY_RUN_MARK}`);
    lines.push('');
  }
  if (m.paired && (m.paired.regressions.length > 0 || m.paired.fixes.length > 0 || m.paired.lost.length > 0)) {
    lines.push(`### Flips against ${mdText(baselineName(m.paired))} (McNemar mid-p ${pValue(m.paired.mcnemarMidP)})`, '');
    const list = (ids: string[]) => ids.slice(0, 20).map((id) => mdCode(id)).join(', ') + (ids.length > 20 ? `, … (${ids.length} in all)` : '');
    if (m.paired.regressions.length) lines.push(`- **Regressions** (agreed, now disagree or no outcome by the candidate): ${list(m.paired.regressions)}`);
    if (m.paired.fixes.length) lines.push(`- **Fixes** (disagreed, now agree): ${list(m.paired.fixes)}`);
    if (m.paired.lost.length) lines.push(`- **Lost** (agreed, now no outcome by the infrastructure; missing evidence, not regressions): ${list(m.paired.lost)}`);
    lines.push('');
  }
  const policy = [...safetyLines(m), ...policyLines(m)];
  if (policy.length > 0) {
    lines.push('### Safety and policy', '');
    for (const [label, text] of policy) lines.push(`- ${label ? `**${label}**: ` : ''}${mdText(text)}`);
    lines.push('');
  }
  if (outcome.warnings.length > 0) {
    // What the run could not do as asked, and what the suite's sandbox opens to the candidate.
    lines.push('### Warnings', '', ...outcome.warnings.map((w) => `- ${mdText(w)}`), '');
  }
  const reversibility = reversibilityOf(outcome);
  if (reversibility) {
    lines.push('### Reversibility', '', `Workflow cap: **${mdText(workflowCapText(reversibility))}**`, '', `| tool | effect class | cap | ${CALLS_HEADER} |`, '|---|---|---|---|');
    for (const r of reversibilityRows(reversibility)) lines.push(`| ${mdCode(r.tool, { cell: true })} | ${mdText(r.effect)} | ${mdText(r.cap)} | ${r.calls} |`);
    lines.push('');
  }
  lines.push('### Metrics', '', `| metric | this run |${baseline ? ' baseline | change |' : ''}`, `|---|---|${baseline ? '---|---|' : ''}`);
  const row = (name: string, now: number | null, before: number | null | undefined, f: (x: number | null) => string, d: (x: number | null) => string = f) =>
    lines.push(`| ${name} | ${f(now)} |${baseline ? ` ${f(before ?? null)} | ${now === null || before == null ? 'n/a' : `${now >= before ? '+' : '−'}${d(Math.abs(now - before))}`} |` : ''}`);
  row('agreement', m.agreement.rate, baseline?.agreement.rate, pct, pp);
  row('effects agreement', m.effectsAgreement.rate, baseline?.effectsAgreement.rate, pct, pp);
  row('agreement (completed only)', m.agreementCompleted?.rate ?? null, baseline?.agreementCompleted?.rate, pct, pp);
  row('error rate', m.errorRate, baseline?.errorRate, pct, pp);
  row('tool-call JSD', m.toolCallDrift.jsd, baseline?.toolCallDrift.jsd, (x) => (x === null ? 'n/a' : x.toFixed(3)));
  row('cost per run', m.cost.perRunUsd, baseline?.cost.perRunUsd, usd);
  row('p95 latency', m.latency.p95Ms, baseline?.latency.p95Ms, ms);
  lines.push('', `<sub>run ${mdText(meta.runId)}${meta.gitCommit ? ` · commit ${mdText(meta.gitCommit.slice(0, 10))}` : ''} · shadowgate</sub>`, '');
  return lines.join('\n');
}
