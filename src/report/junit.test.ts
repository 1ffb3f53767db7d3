import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { GateCheck, GateResult } from '../gate/gate.js';
import type { RunOutcome } from '../run/run-suite.js';
import { renderGateJunit, renderJunit } from './junit.js';

/** Only what the gate's JUnit reads of a run: its suite, start and gate. */
const runWith = (gate: GateResult, warnings: string[] = []) => ({ meta: { suite: 'refund-triage', startedAt: '2026-12-01T00:00:00.000Z' }, gate, warnings }) as unknown as RunOutcome;

const check = (name: string, status: GateCheck['status'], reason: string, extra: Partial<GateCheck> = {}): GateCheck => ({ name, value: 0.5, threshold: 0.9, status, reason, ...extra });

describe('renderGateJunit', () => {
  it('writes one testcase per check: pass plain, fail a failure, inconclusive an error, dry run skipped, each with its reason', () => {
    const checks = [
      check('errorRate', 'pass', 'error rate 0.0% ≤ 2.0%'),
      check('agreement', 'fail', 'lower 95% bound of agreement (391/480) 77.7% < 85.0%', { value: 0.777123, threshold: 0.85 }),
      check('coverage', 'inconclusive', 'coverage 90.0% (432/480 lines) < 100.0%: 48 lines unreadable, first traces/a.jsonl:3'),
      check('toolCallDrift', 'fail', 'JSD 0.2 > 0.1 <&>', { dryRun: true }),
    ];
    const xml = renderGateJunit(runWith({ verdict: 'fail', checks }));
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(checks.length);
    expect(xml).toContain('<testsuite name="refund-triage.gate" tests="4" failures="1" errors="1" skipped="1"');
    expect(xml).toContain('<testcase classname="refund-triage.gate" name="errorRate" time="0"/>');
    expect(xml).toContain(`<failure type="fail" message="lower 95% bound of agreement (391/480) 77.7% &lt; 85.0%">lower 95% bound of agreement (391/480) 77.7% &lt; 85.0%\nvalue 0.7771, threshold 0.85</failure>`);
    expect(xml).toContain('<error type="inconclusive" message="coverage 90.0% (432/480 lines) &lt; 100.0%: 48 lines unreadable, first traces/a.jsonl:3">');
    expect(xml).toContain('<skipped message="dry run, not in the verdict: fail: JSD 0.2 &gt; 0.1 &lt;&amp;&gt;"/>');
  });

  it("carries the run's warnings (a loosened sandbox) as the suite's system-err, escaped", () => {
    const xml = renderGateJunit(runWith({ verdict: 'pass', checks: [check('agreement', 'pass', 'ok')] }, ['the suite\'s sandbox allows the candidate to run without a network namespace (sandbox.network: trust-env) <&>']));
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('<system-err>warning: the suite&apos;s sandbox allows the candidate to run without a network namespace (sandbox.network: trust-env) &lt;&amp;&gt;</system-err>');
    expect(renderGateJunit(runWith({ verdict: 'pass', checks: [] }))).not.toContain('system-err');
  });

  it('a passing gate is all green: no failure, error or skipped element', () => {
    const xml = renderGateJunit(runWith({ verdict: 'pass', checks: [check('agreement', 'pass', 'ok'), check('errorRate', 'pass', 'ok')] }));
    expect(xml).not.toMatch(/<(failure|error|skipped)\b/);
    expect(xml).toContain('tests="2" failures="0" errors="0" skipped="0"');
  });

  it('a run with no checks is one skipped testcase that says so, never a green one', () => {
    const xml = renderGateJunit(runWith({ verdict: 'pass', checks: [], noChecks: true }));
    expect(xml).toContain('<testcase classname="refund-triage.gate" name="gate" time="0">\n      <skipped message="no gate checks configured"/>');
    expect(xml).toContain('tests="1" failures="0" errors="0" skipped="1"');
  });
});

describe('renderJunit', () => {
  it('lists a trace line that could not be read as a testcase with an error, never leaving the view green', () => {
    const outcome = {
      meta: { suite: 'refund-triage', startedAt: '2026-12-01T00:00:00.000Z' },
      gate: { verdict: 'inconclusive', checks: [] },
      warnings: [],
      issues: [{ file: 'traces/a.jsonl', line: 3, message: 'invalid JSON <&>' }, { file: 'traces/a.jsonl', line: 7, path: 'steps.0.name', message: 'Required' }],
    } as unknown as RunOutcome;
    const xml = renderJunit(outcome, []);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('<testsuite name="refund-triage" tests="2" failures="0" errors="2" skipped="0"');
    expect(xml).toContain('<testcase classname="refund-triage" name="traces/a.jsonl:3" time="0">\n      <error type="unreadable" message="could not be read: invalid JSON &lt;&amp;&gt;">');
    expect(xml).toContain('name="traces/a.jsonl:7"');
    expect(xml).toContain('message="could not be read: steps.0.name: Required"');
  });
});
