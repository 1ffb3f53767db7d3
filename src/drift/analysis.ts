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
  against: Against['kind'];
  /**
   * The reference window when it is not one of `windows`: the fixed span of
   * `--against <from>..<to>`, or with `previous` and a single window, the window
   * before it (read so that the latest window is still judged against something).
   * Null with `previous` and two or more windows.
   */
  reference: { start: string; end: string; figures: WindowFigures } | null;
  /** Observations in no window (nor in the reference). */
  outside: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Sorts observations into consecutive time windows (and a reference window not among them)
 * as they stream by, each window folding its own figures in bounded memory; then
 * compares each window with its reference. Observations may come in any order. Pure.
 */
export function createDriftAnalysis(windows: readonly TimeWindow[], against: Against) {
  const accumulators = windows.map(() => createWindowAccumulator());
  const only = windows.length === 1 ? windows[0]! : undefined;
  const referenceWindow = against.kind === 'range' ? against.window : only ? { start: 2 * only.start - only.end, end: only.start } : undefined;
  const reference = referenceWindow ? createWindowAccumulator() : undefined;
  let outside = 0;

  return {
    add(o: DriftObservation): void {
      const i = windowIndex(windows, o.at);
      if (i >= 0) accumulators[i]!.add(o);
      const inReference = referenceWindow !== undefined && inWindow(referenceWindow, o.at);
      if (inReference) reference!.add(o);
      if (i < 0 && !inReference) outside++;
    },
    /** Whether an instant falls in a window or in the reference: whether a run there is worth reading. */
    covers(at: number): boolean {
      return windowIndex(windows, at) >= 0 || (referenceWindow !== undefined && inWindow(referenceWindow, at));
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
        against: against.kind,
        reference: fixed && referenceWindow ? { start: iso(referenceWindow.start), end: iso(referenceWindow.end), figures: fixed } : null,
        outside,
      };
    },
  };
}
