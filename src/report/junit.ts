import { DECIDED_STATUSES, type TraceResult } from '../replay/types.js';
import type { RunOutcome } from '../run/run-suite.js';

import { forXml as xml } from './escape.js';

/** Why a trace fails, with its divergence point; null when it passes. */
function failureOf(r: TraceResult): { type: string; message: string } | null {
  const at = r.divergence
    ? ` Left the recorded path at step ${r.divergence.stepIndex}: ${r.divergence.candidate?.name ?? '(no more calls)'} ${JSON.stringify(r.divergence.candidate?.args ?? null)} where the recording has ${r.divergence.recorded?.name ?? '(no more calls)'} ${JSON.stringify(r.divergence.recorded?.args ?? null)}.`
    : '';
  if (!DECIDED_STATUSES.includes(r.status) && r.status !== 'unpaired') {
    return { type: r.status, message: `${r.status}${r.error ? `: ${r.error.message}` : ''}.${at}` };
  }
  if (r.agree === false) {
    return { type: 'disagreement', message: `decided ${JSON.stringify(r.decision)}, reference ${JSON.stringify(r.reference.decision)}.${at}` };
  }
  return null;
}

/**
 * JUnit XML: one testcase per trace, so that CI systems list them; a disagreement
 * or a trace with no outcome is a failure carrying its divergence point. Times are
 * the candidate's latency. Pure.
 */
export function renderJunit(outcome: RunOutcome, results: Iterable<TraceResult>): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  let tests = 0;
  for (const r of results) {
    tests++;
    const name = `${r.traceId}${r.trial ? ` #${r.trial}` : ''}`;
    const time = ((r.latencyMs ?? 0) / 1000).toFixed(3);
    const head = `    <testcase classname="${xml(outcome.meta.suite)}" name="${xml(name)}" time="${time}"`;
    if (r.status === 'unpaired' || (r.agree === null && DECIDED_STATUSES.includes(r.status))) {
      skipped++;
      cases.push(`${head}>\n      <skipped message="${r.status === 'unpaired' ? 'no partner trace' : 'no reference decision'}"/>\n    </testcase>`);
      continue;
    }
    const failure = failureOf(r);
    if (!failure) {
      cases.push(`${head}/>`);
      continue;
    }
    failures++;
    cases.push(`${head}>\n      <failure type="${xml(failure.type)}" message="${xml(failure.message)}">${xml(failure.message)}</failure>\n    </testcase>`);
  }
  const suite = xml(outcome.meta.suite);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="shadowgate" tests="${tests}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${suite}" tests="${tests}" failures="${failures}" skipped="${skipped}" timestamp="${xml(outcome.meta.startedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
