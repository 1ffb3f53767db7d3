import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../e2e/helpers.js';

/** A temp folder with the first `n` bundled refund-triage traces and a suite over them. */
export function modelSuite(candidate: string, n = 12, extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'sg-model-'));
  const lines = readFileSync(join(ROOT, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').split('\n').slice(0, n);
  writeFileSync(join(dir, 'traces.jsonl'), `${lines.join('\n')}\n`);
  const fixtures = join(ROOT, 'fixtures/refund-triage');
  const suite = join(dir, 'suite.yaml');
  writeFileSync(
    suite,
    `name: model-suite
traces: traces.jsonl
tools: ${join(fixtures, 'tools.yaml')}
reference: human
candidate:
${candidate.replaceAll('$FIXTURES', fixtures).replace(/^/gm, '  ')}
compare:
  decision: { fields: [action, amount], numericTolerance: 0.01 }
  effects: { ignoreArgs: [idempotency_key, note, reason] }
${extra}`,
  );
  return { dir, suite, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const DECISION_SCHEMA = `decisionSchema:
  type: object
  properties:
    action: { enum: [refund, deny, escalate] }
    amount: { type: number }
  required: [action]
  additionalProperties: false`;
