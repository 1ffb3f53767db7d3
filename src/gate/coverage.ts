import type { Issue } from '../errors.js';
import type { GateCheck } from './gate.js';

/**
 * How much of a run's input was read into results: what the `coverage` check
 * judges. A trace line that could not be read (bad JSON, a field that fails the
 * schema, a duplicate id) is evidence the gate never saw.
 */
export interface CoverageCounts {
  /** Trace lines in the run's share (its shard): those read into a result and those that could not be. */
  lines: number;
  /** Of `lines`, those that could not be read into a result. */
  unreadable: number;
  /**
   * Traces that ended without an outcome because of the infrastructure (a provider still
   * failing after its retries, a cassette miss, the run's budget): missing evidence, as
   * unreadable lines are. Absent until results carry the cause of a missing outcome.
   */
  infrastructureMissing?: number;
  /** The first few of those traces, by id. */
  infrastructureFirst?: string[];
  /**
   * A recorded candidate's traces of cases the run judged that no suite trace was paired with
   * (a trial the suite's side does not have): the candidate's evidence left out, which no
   * `coverage.min` accepts. Absent where there were none.
   */
  unjudgedCandidate?: number;
  /** The first few of those, by id. */
  unjudgedCandidateFirst?: string[];
  /** The first unreadable locations, `file:line`, in the order they were met. */
  firstLocations: string[];
}

/** How many unreadable locations a check's reason names. */
export const FIRST_LOCATIONS = 5;

/**
 * The unreadable locations among a run's issues, each `file:line` once (an issue
 * without a line, about a whole file, counts once for the file). Pure.
 */
export function unreadableLocations(issues: readonly Issue[]): string[] {
  return [...new Set(issues.map((i) => (i.line === undefined ? i.file : `${i.file}:${i.line}`)))];
}

/**
 * The coverage of a run from the trace lines in its share (`lines`: read or not) and its
 * issues, whose every location is a line that was not read into a result (bad JSON, a
 * field that fails the schema, a duplicate id), counted once however many issues it has. Pure.
 */
export function coverageOf(lines: number, issues: readonly Issue[], infrastructure?: { traces: number; first: string[] }, unjudged?: { traces: number; first: string[] }): CoverageCounts {
  const locations = unreadableLocations(issues);
  return {
    lines: Math.max(lines, locations.length),
    unreadable: locations.length,
    ...(infrastructure !== undefined ? { infrastructureMissing: infrastructure.traces, infrastructureFirst: infrastructure.first.slice(0, FIRST_LOCATIONS) } : {}),
    ...(unjudged && unjudged.traces > 0 ? { unjudgedCandidate: unjudged.traces, unjudgedCandidateFirst: unjudged.first.slice(0, FIRST_LOCATIONS) } : {}),
    firstLocations: locations.slice(0, FIRST_LOCATIONS),
  };
}

/** Issues reported alike by several shards (every shard reads every bad line), each once. Pure. */
export function uniqueIssues(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = JSON.stringify([i.file, i.line, i.path, i.message]);
    return !seen.has(key) && Boolean(seen.add(key));
  });
}

/**
 * The coverage of shards merged into one run: the lines each shard read into results,
 * summed, and the unreadable lines once (every shard reads every line, and reports the
 * bad ones alike). Pure.
 */
export function mergeCoverage(shards: readonly { coverage?: CoverageCounts | null; issues: readonly Issue[] }[]): CoverageCounts | null {
  // A shard that does not say what it read leaves coverage unknown, which the gate does not pass.
  if (shards.some((s) => !s.coverage)) return null;
  const locations = unreadableLocations(shards.flatMap((s) => s.issues));
  const read = shards.reduce((n, s) => n + s.coverage!.lines - s.coverage!.unreadable - (s.coverage!.infrastructureMissing ?? 0), 0);
  const infra = shards.some((s) => s.coverage!.infrastructureMissing !== undefined)
    ? shards.reduce((n, s) => n + (s.coverage!.infrastructureMissing ?? 0), 0)
    : undefined;
  const infraFirst = shards.flatMap((s) => s.coverage!.infrastructureFirst ?? []).slice(0, FIRST_LOCATIONS);
  // Each shard reports the candidate traces of its own cases: summed.
  const unjudged = shards.reduce((n, s) => n + (s.coverage!.unjudgedCandidate ?? 0), 0);
  return {
    lines: read + (infra ?? 0) + locations.length,
    unreadable: locations.length,
    ...(infra !== undefined ? { infrastructureMissing: infra, infrastructureFirst: infraFirst } : {}),
    ...(unjudged > 0 ? { unjudgedCandidate: unjudged, unjudgedCandidateFirst: shards.flatMap((s) => s.coverage!.unjudgedCandidateFirst ?? []).slice(0, FIRST_LOCATIONS) } : {}),
    firstLocations: locations.slice(0, FIRST_LOCATIONS),
  };
}

/**
 * The `coverage` check: the share of trace lines read into a result, against `min`
 * (1 by default: any loss). Short of it, or unknown (`null`), the verdict is inconclusive,
 * not failed: the data is missing, not the candidate at fault. Pure.
 */
export function coverageCheck(c: CoverageCounts | null, min: number): GateCheck {
  if (c === null) return { name: 'coverage', value: null, threshold: min, status: 'inconclusive', reason: 'how many trace lines were read is unknown (results written by an older shadowgate): run again' };
  const lost = c.unreadable + (c.infrastructureMissing ?? 0);
  if (c.lines === 0) return { name: 'coverage', value: null, threshold: min, status: 'inconclusive', reason: 'no trace line was read' };
  const rate = (c.lines - lost) / c.lines;
  const parts = [
    c.unreadable > 0 ? `${c.unreadable} of ${c.lines} trace line(s) unreadable (${c.firstLocations.join(', ')}${c.unreadable > c.firstLocations.length ? ', …' : ''})` : '',
    c.infrastructureMissing
      ? `${c.infrastructureMissing} trace(s) without an outcome because of the infrastructure (${(c.infrastructureFirst ?? []).join(', ')}${c.infrastructureMissing > (c.infrastructureFirst ?? []).length ? ', …' : ''}): see counts.noOutcome`
      : '',
  ].filter(Boolean);
  const share = `coverage ${pct(rate)} (${c.lines - lost}/${c.lines} lines read into a result)`;
  if (c.unjudgedCandidate) {
    const first = `${(c.unjudgedCandidateFirst ?? []).join(', ')}${c.unjudgedCandidate > (c.unjudgedCandidateFirst ?? []).length ? ', …' : ''}`;
    const why = `${c.unjudgedCandidate} of the candidate's recorded trace(s) of cases this run judged have no partner among the suite's traces (${first}): trials the suite's side does not have, left out of every figure; give both sides the same trials, or none`;
    return { name: 'coverage', value: rate, threshold: min, status: 'inconclusive', reason: [...parts, why, share].join('; ') };
  }
  if (rate >= min) {
    return { name: 'coverage', value: rate, threshold: min, status: 'pass', reason: `${share} ≥ ${pct(min)}${parts.length ? `; ${parts.join('; ')}` : ''}` };
  }
  const accept = min === 1 ? '; set gate.coverage.min to accept some loss' : '';
  return { name: 'coverage', value: rate, threshold: min, status: 'inconclusive', reason: `${parts.join('; ')}: ${share} < ${pct(min)}${accept}` };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
