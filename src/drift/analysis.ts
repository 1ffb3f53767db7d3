import { createWindowAccumulator, type WindowFigures } from './accumulator.js';
import { compareWindows, type WindowComparison } from './compare.js';
import type { DriftObservation } from './observation.js';
import { inWindow, windowIndex, type Against, type TimeWindow } from './windows.js';

export interface WindowReport {
  /** ISO times; the window is (start, end]. */
  start: string;
  end: string;
  figures: WindowFigures;
  /** Against the window before it (null for the first), or against the fixed reference window. */
  comparison: WindowComparison | null;
}

export interface DriftWindows {
  windows: WindowReport[];
  /** The fixed reference window of `--against <from>..<to>`; null with `previous`. */
  reference: { start: string; end: string; figures: WindowFigures } | null;
  /** Observations in no window (nor in the reference). */
  outside: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Sorts observations into consecutive time windows (and a fixed reference window)
 * as they stream by, each window folding its own figures in bounded memory; then
 * compares each window with its reference. Observations may come in any order. Pure.
 */
export function createDriftAnalysis(windows: readonly TimeWindow[], against: Against) {
  const accumulators = windows.map(() => createWindowAccumulator());
  const reference = against.kind === 'range' ? createWindowAccumulator() : undefined;
  let outside = 0;

  return {
    add(o: DriftObservation): void {
      const i = windowIndex(windows, o.at);
      if (i >= 0) accumulators[i]!.add(o);
      const inReference = against.kind === 'range' && inWindow(against.window, o.at);
      if (inReference) reference!.add(o);
      if (i < 0 && !inReference) outside++;
    },
    /** Counts runs known to lie outside every window without reading them. */
    addOutside(n: number): void {
      outside += n;
    },
    finish(): DriftWindows {
      const figures = accumulators.map((a) => a.finish());
      const fixed = reference?.finish();
      return {
        windows: windows.map((w, i) => {
          const base = fixed ?? (i > 0 ? figures[i - 1]! : undefined);
          return { start: iso(w.start), end: iso(w.end), figures: figures[i]!, comparison: base ? compareWindows(figures[i]!, base) : null };
        }),
        reference: fixed && against.kind === 'range' ? { start: iso(against.window.start), end: iso(against.window.end), figures: fixed } : null,
        outside,
      };
    },
  };
}
