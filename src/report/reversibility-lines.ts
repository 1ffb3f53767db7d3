import { forTerminal } from './escape.js';
import { runReversibility, type ReversibilityMatrix, type RunReversibility } from '../phases/reversibility.js';
import type { RunOutcome, RunSettings } from '../run/run-suite.js';

/** The reversibility matrix of a run, for every report; null for a run that kept no catalog. Pure. */
export const reversibilityOf = (outcome: Pick<RunOutcome, 'metrics'> & { settings: RunSettings & { reversibility?: RunReversibility } }): ReversibilityMatrix | null =>
  runReversibility(outcome.settings.reversibility, outcome.metrics.toolCallDrift.perTool);

/** "suggest, set by issue_refund (write-irreversible)"; a shadow period it waits on is said. Pure. */
export function workflowCapText(m: ReversibilityMatrix): string {
  const basis = m.basis === 'used' ? 'the tools called' : 'every catalog tool (usage not known)';
  if (m.riskiest === null) return `auto: no tool called`;
  const cap = m.condition
    ? `auto after a shadow period of ${m.condition.shadowPeriod.runs} shadow run(s) over ${m.condition.shadowPeriod.days} day(s), auto-with-review until then`
    : m.cap;
  return `${cap}, set by ${m.imposedBy.join(', ')} (${m.riskiest}), over ${basis}`;
}

/** The calls column counts both sides: the recorded traces' tool steps and the candidate's. */
export const CALLS_HEADER = 'calls (recorded + candidate)';

export interface ReversibilityRow {
  tool: string;
  effect: string;
  cap: string;
  calls: string;
}

/** One row a tool: its class (marked when the catalog lacks it), the phase it allows, its calls in the run. Pure. */
export function reversibilityRows(m: ReversibilityMatrix): ReversibilityRow[] {
  return m.tools.map((t) => ({
    tool: t.name,
    effect: t.inCatalog ? t.effect : `${t.effect} (not in the catalog)`,
    cap: t.condition === 'shadow-period' ? `${t.cap} after a shadow period` : t.cap,
    calls: t.calls === null ? 'n/a' : t.counted ? String(Math.round(t.calls * 10) / 10) : '0 (not counted)',
  }));
}

/** The matrix as indented plain-text lines (terminal, `shadowgate phase`). Pure. */
export function reversibilityTable(m: ReversibilityMatrix, indent = '    '): string[] {
  // A tool name comes from traces: escaped, so that a newline in it cannot split the table.
  const rows = [{ tool: 'tool', effect: 'effect class', cap: 'cap', calls: CALLS_HEADER }, ...reversibilityRows(m).map((r) => ({ ...r, tool: forTerminal(r.tool) }))];
  const w = (k: keyof ReversibilityRow) => Math.max(...rows.map((r) => r[k].length));
  return rows.map((r) => `${indent}${r.tool.padEnd(w('tool'))}  ${r.effect.padEnd(w('effect'))}  ${r.cap.padEnd(w('cap'))}  ${r.calls}`.trimEnd());
}
