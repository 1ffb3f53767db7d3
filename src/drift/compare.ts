import { chiSquareTest, psiBand, type PsiBand } from '../metrics/chi-square.js';
import { jensenShannon, populationStabilityIndex } from '../metrics/stats.js';
import type { WindowFigures } from './accumulator.js';

/** One tool in two windows: its calls, its calls per run, and how many times as often it is called now. */
export interface ToolShift {
  reference: number;
  current: number;
  referencePerTrace: number | null;
  currentPerTrace: number | null;
  /** currentPerTrace / referencePerTrace: per run, so that a busier week is not a drift; null when the reference never called it. */
  ratio: number | null;
}

/** How a window moved against its reference window. */
export interface WindowComparison {
  /** Jensen–Shannon divergence (base 2) of the tool-name mixes; null when either window has no tool call. */
  jsd: number | null;
  psi: number | null;
  psiBand: PsiBand | null;
  /** Chi-square test of homogeneity of the two mixes (sparse tools merged); null when untestable. */
  chi2P: number | null;
  perTool: Record<string, ToolShift>;
  /** Tools called in this window and never in the reference, and the other way round. */
  newTools: string[];
  missingTools: string[];
  /** Differences of rates (this window − the reference), in [−1, 1]. */
  agreementChange: number | null;
  overrideRateChange: number | null;
  escalationRateChange: number | null;
  errorRateChange: number | null;
  /** Ratios (this window / the reference). */
  costPerCompletedRatio: number | null;
  p95LatencyRatio: number | null;
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);

/** Compares a window's figures with a reference window's. Pure. */
export function compareWindows(current: WindowFigures, reference: WindowFigures): WindowComparison {
  const names = [...new Set([...Object.keys(reference.tools), ...Object.keys(current.tools)])].sort();
  const perRun = (calls: number, runs: number) => (runs === 0 ? null : calls / runs);
  const perTool = Object.fromEntries(
    names.map((name) => {
      const ref = reference.tools[name] ?? 0;
      const cur = current.tools[name] ?? 0;
      const referencePerTrace = perRun(ref, reference.traces);
      const currentPerTrace = perRun(cur, current.traces);
      return [name, { reference: ref, current: cur, referencePerTrace, currentPerTrace, ratio: ref === 0 ? null : ratio(currentPerTrace, referencePerTrace) }];
    }),
  );
  const psi = populationStabilityIndex(reference.tools, current.tools);
  const bothCalled = reference.toolCalls > 0 && current.toolCalls > 0;
  return {
    jsd: jensenShannon(reference.tools, current.tools),
    psi,
    psiBand: psi === null ? null : psiBand(psi),
    chi2P: chiSquareTest(reference.tools, current.tools)?.p ?? null,
    perTool,
    // A window with no call at all says nothing of which tools appeared or vanished.
    newTools: bothCalled ? names.filter((n) => !reference.tools[n]) : [],
    missingTools: bothCalled ? names.filter((n) => !current.tools[n]) : [],
    agreementChange: diff(current.agreement.rate, reference.agreement.rate),
    overrideRateChange: diff(current.overrideRate.rate, reference.overrideRate.rate),
    escalationRateChange: diff(current.escalationRate.rate, reference.escalationRate.rate),
    errorRateChange: diff(current.errorRate.rate, reference.errorRate.rate),
    costPerCompletedRatio: ratio(current.costPerCompletedUsd, reference.costPerCompletedUsd),
    p95LatencyRatio: ratio(current.p95LatencyMs, reference.p95LatencyMs),
  };
}
