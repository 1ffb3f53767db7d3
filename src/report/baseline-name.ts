import type { PairedMetric } from '../metrics/summary.js';

/**
 * The baseline as reports name it: its run, suite and candidate (label and the start of its
 * identity hash), and whether it is this run's candidate. Pure.
 * @example baselineName({ baselineRunId: 'r1', baselineIdentity: { suite: 's', candidate: { label: 'module:v1.mjs', hash: 'abcdef0123456' }, sameCandidate: false } } as PairedMetric)
 * // 'run r1 (suite s, candidate module:v1.mjs abcdef0123)'
 */
export function baselineName(p: PairedMetric): string {
  const id = p.baselineIdentity;
  if (!id) return `run ${p.baselineRunId}`;
  const parts = [
    id.suite !== null ? `suite ${id.suite}` : '',
    id.candidate ? `candidate ${id.candidate.label} ${id.candidate.hash.slice(0, 10)}${id.sameCandidate ? ', the same candidate as this run' : ''}` : 'candidate not recorded',
  ].filter(Boolean);
  return `run ${p.baselineRunId} (${parts.join(', ')})`;
}
