import { DECIDED_STATUSES, type TraceResult } from '../replay/types.js';
import type { GateCheck } from '../gate/gate.js';
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

/** What a JUnit file holds: one testcase per trace (the default, as before) or one per gate check. */
export type JunitKind = 'traces' | 'gate';
export const JUNIT_KINDS: readonly JunitKind[] = ['traces', 'gate'];

/**
 * JUnit XML: one testcase per trace, so that CI systems list them; a disagreement
 * or a trace with no outcome is a failure carrying its divergence point. Times are
 * the candidate's latency. A trace line that could not be read is a testcase of its own
 * with an `<error>` (missing evidence is never green, nor left out of the list). Pure.
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
  let errors = 0;
  for (const issue of outcome.issues) {
    tests++;
    errors++;
    const where = `${issue.file}${issue.line === undefined ? '' : `:${issue.line}`}`;
    const message = `could not be read: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
    cases.push(`    <testcase classname="${xml(outcome.meta.suite)}" name="${xml(where)}" time="0">\n      <error type="unreadable" message="${xml(message)}">${xml(message)}</error>\n    </testcase>`);
  }
  const suite = xml(outcome.meta.suite);
  const counted = `tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="shadowgate" ${counted}>`,
    `  <testsuite name="${suite}" ${counted} timestamp="${xml(outcome.meta.startedAt)}">`,
    ...cases,
    ...warningsXml(outcome),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/**
 * JUnit XML of the gate: one testcase per check, so that a CI test view shows the gate as it
 * decided. A passing check is a plain testcase (green); a failing one a `<failure>` with its
 * reason; an inconclusive one an `<error>` with its reason, because its evidence could not be
 * judged, which is not a failed assertion but is never green either (the job exits 1 on it
 * unless inconclusive is allowed); a dry-run check, measured but out of the verdict, is
 * `<skipped>` with its status and reason. A run with no checks has one skipped testcase
 * saying so. Pure.
 */
export function renderGateJunit(outcome: RunOutcome): string {
  const suite = xml(outcome.meta.suite);
  const tally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const cases = outcome.gate.checks.map((check) => {
    tally.tests++;
    const head = `    <testcase classname="${suite}.gate" name="${xml(check.name)}" time="0"`;
    const body = gateBody(check);
    if (!body) return `${head}/>`;
    tally[body.tally]++;
    return `${head}>\n      ${body.xml}\n    </testcase>`;
  });
  if (cases.length === 0) {
    tally.tests++;
    tally.skipped++;
    cases.push(`    <testcase classname="${suite}.gate" name="gate" time="0">\n      <skipped message="no gate checks configured"/>\n    </testcase>`);
  }
  const counts = `tests="${tally.tests}" failures="${tally.failures}" errors="${tally.errors}" skipped="${tally.skipped}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="shadowgate gate" ${counts}>`,
    `  <testsuite name="${suite}.gate" ${counts} timestamp="${xml(outcome.meta.startedAt)}">`,
    ...cases,
    ...warningsXml(outcome),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function gateBody(check: GateCheck): { tally: 'failures' | 'errors' | 'skipped'; xml: string } | null {
  const figure = (x: number | null) => (x === null ? 'n/a' : String(Number(x.toPrecision(4))));
  const figures = `value ${figure(check.value)}, threshold ${figure(check.threshold)}`;
  if (check.dryRun) return { tally: 'skipped', xml: `<skipped message="${xml(`dry run, not in the verdict: ${check.status}: ${check.reason}`)}"/>` };
  if (check.status === 'pass') return null;
  const element = check.status === 'fail' ? 'failure' : 'error';
  return {
    tally: check.status === 'fail' ? 'failures' : 'errors',
    xml: `<${element} type="${check.status}" message="${xml(check.reason)}">${xml(`${check.reason}\n${figures}`)}</${element}>`,
  };
}

/** The run's warnings (a loosened sandbox among them) as the suite's `<system-err>`, where CI test views show them. */
function warningsXml(outcome: RunOutcome): string[] {
  return outcome.warnings.length === 0 ? [] : [`    <system-err>${outcome.warnings.map((w) => xml(`warning: ${w}`)).join('\n')}</system-err>`];
}
