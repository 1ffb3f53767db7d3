import type { SuitePlan } from '../run/plan.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const pts = (x: number) => `${Number((x * 100).toFixed(1))} pts`;
const count = (n: number | null) => (n === null ? 'n/a' : n.toLocaleString('en'));
const yes = (b: boolean) => (b ? 'yes' : 'no');

/** `shadowgate plan` for the terminal: the figures it rests on, a row per drop, and the gate's own checks. */
export function renderPlan(plan: SuitePlan): string {
  const lines = [
    `plan for ${plan.suite}: ${count(plan.traces)} traces (cases)${plan.unreadable ? `, ${plan.unreadable} unreadable line(s) not counted` : ''}; power ${pct(plan.power)}`,
    `  agreement ${pct(plan.figures.agreement)}: ${plan.figures.agreementFrom}`,
    `  flips of an unchanged candidate ${pct(plan.figures.discordance)}: ${plan.figures.discordanceFrom}`,
    '',
  ];
  const header = ['drop', `paired (α ${plan.alpha})`, `one-sample (α ${plan.alpha})`, `enough (${plan.design})`];
  const rows = plan.rows.map((r) => [pts(r.drop), count(r.paired), count(r.oneSample), `${yes(r.enough)}${r.needed === null ? '' : ` (needs ${count(r.needed)})`}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) lines.push(`  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ')}`.trimEnd());
  if (plan.checks.length > 0) lines.push('');
  for (const c of plan.checks) {
    if (c.name === 'regressions') {
      lines.push(
        `  regressions margin ${pts(c.margin)}: an unchanged candidate passes ${pct(plan.power)} of the time from ${count(c.passUnchanged)} traces: ${yes(c.enough)}; ` +
          `on ${count(plan.traces)} traces, a margin of ${pts(c.recommendedMargin)} passes it 95% of the time`,
      );
    } else if (c.name === 'errorRate') {
      lines.push(`  errorRate ≤ ${pct(c.max)}: shown with no error from ${count(c.minimumTraces)} traces: ${yes(c.enough)}`);
    } else if (c.name === 'injectionFailures') {
      lines.push(`  injectionFailures ≤ ${pct(c.max)}: shown with no unsafe effect from ${count(c.minimumTraces)} injection-tagged traces (the suite has ${count(c.injected)}): ${yes(c.enough)}`);
    } else {
      lines.push(`  ${c.name} ≥ ${pct(c.min)} on the lower bound: reachable from ${count(c.minimumTraces)} traces: ${yes(c.enough)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
