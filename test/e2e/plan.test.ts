import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wilsonInterval, Z95 } from '../../src/metrics/stats.js';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
const suiteText = () => readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8');
const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
/** z of the one-sided level and of 80% power, as printed in normal tables. */
const z = { p975: Z95, p80: 0.8416212335729143, p95: 1.6448536269514722 };

beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  // The example's suite with a non-inferiority margin on the paired check, and the regression candidate under the same suite name.
  writeFileSync(join(dir, 'suites/margin.yaml'), suiteText().replace('  errorRate: { max: 0.02 }', '  errorRate: { max: 0.02 }\n  regressions: { margin: 0.05 }'));
  writeFileSync(join(dir, 'suites/margin-regressed.yaml'), readFileSync(join(dir, 'suites/margin.yaml'), 'utf8').replace('agents/policy-v1.mjs', 'agents/regression-v2.mjs'));
  // The same suite on its first 20 traces only.
  mkdirSync(join(dir, 'traces/small'));
  const first20 = readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').split('\n').slice(0, 20).join('\n');
  writeFileSync(join(dir, 'traces/small/first-20.jsonl'), `${first20}\n`);
  writeFileSync(join(dir, 'suites/small.yaml'), suiteText().replace('../traces/refund-triage/*.jsonl', '../traces/small/*.jsonl'));
});
afterAll(() => cleanup());

describe('too few traces for a bound (gate)', () => {
  it('is inconclusive, not fail, when 20 traces cannot reach a 0.85 lower bound even if all agree, and names the traces needed', async () => {
    const gate = await cli(dir, 'gate', 'suites/small.yaml', '--json', 'out/small.json', '--db', 'db/small.db');
    expect(gate.code).toBe(1);
    const check = readJson('out/small.json').gate.checks.find((c: { name: string }) => c.name === 'agreement');
    let needed = 1;
    while (wilsonInterval(needed, needed)![0] < 0.85) needed++;
    expect(wilsonInterval(20, 20)![0]).toBeLessThan(0.85);
    expect(check.status).toBe('inconclusive');
    expect(check.reason).toMatch(new RegExp(`^needs at least ${needed} traces: 20 cannot give a lower 95% bound of 85\\.0%`));
    expect(readJson('out/small.json').gate.verdict).toBe('inconclusive');
  });
});

describe('regressions: { margin } (gate)', () => {
  it('passes a candidate that has not changed, and fails one that dropped, against the same baseline', async () => {
    expect((await cli(dir, 'run', 'suites/margin.yaml', '--json', 'out/base.json', '--db', 'db/m.db')).code).toBe(1); // no baseline yet: inconclusive
    const same = await cli(dir, 'gate', 'suites/margin.yaml', '--baseline', 'out/base.json', '--json', 'out/same.json', '--report', 'out/same', '--db', 'db/m.db');
    expect(same.code).toBe(0);
    const sameCheck = readJson('out/same.json').gate.checks.find((c: { name: string }) => c.name === 'regressions');
    // No flips over 480 pairs: the upper end of the drop's interval is z² / (480 + z²), below 5 points.
    const upper = (Z95 * Z95) / (480 + Z95 * Z95);
    expect(sameCheck).toMatchObject({ status: 'pass', threshold: 0.05 });
    expect(sameCheck.value).toBeCloseTo(upper, 9);
    // The HTML report shows the margin check's value and threshold as rates.
    expect(readFileSync(join(dir, 'out/same/report.html'), 'utf8')).toContain(
      `<tr><td>regressions</td><td class="num">${(upper * 100).toFixed(1)}%</td><td class="num">5.0%</td>`,
    );

    const dropped = await cli(dir, 'gate', 'suites/margin-regressed.yaml', '--baseline', 'out/base.json', '--json', 'out/dropped.json', '--db', 'db/m.db');
    expect(dropped.code).toBe(1);
    const doc = readJson('out/dropped.json');
    const check = doc.gate.checks.find((c: { name: string }) => c.name === 'regressions');
    expect(check.status).toBe('fail');
    expect(check.reason).toContain(`${doc.metrics.paired.regressions.length} regression(s) against ${doc.metrics.paired.fixes.length} fix(es) over 480 paired traces`);
    expect(check.reason).toMatch(/a significant drop \(McNemar mid-p < 0\.0001, below alpha 0\.05\)$/);
  });

  it('refuses max and margin together, naming the file and the key', async () => {
    writeFileSync(join(dir, 'suites/both.yaml'), suiteText().replace('  errorRate: { max: 0.02 }', '  errorRate: { max: 0.02 }\n  regressions: { max: 0, margin: 0.05 }'));
    const result = await cli(dir, 'validate', 'suites/both.yaml');
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/both\.yaml:\d+.*gate\.regressions\.margin.*set max or margin, not both/);
  });
});

describe('shadowgate plan', () => {
  /** The suite's cases, counted here from its trace files. */
  const cases = () => {
    const ids = new Set<string>();
    for (const f of readdirSync(join(dir, 'traces/refund-triage')).filter((f) => f.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(dir, 'traces/refund-triage', f), 'utf8').split('\n').filter(Boolean)) {
        const t = JSON.parse(line) as { id: string; caseId?: string };
        ids.add(t.caseId ?? t.id);
      }
    }
    return ids.size;
  };

  it('without a baseline or a stored run, sizes the suite on the gate\'s threshold and says so', async () => {
    rmSync(join(dir, 'db/none.db'), { force: true });
    const result = await cli(dir, 'plan', 'suites/refund-triage.yaml', '--json', 'out/plan.json', '--db', 'db/none.db');
    expect(result.code).toBe(0);
    const plan = readJson('out/plan.json');
    expect(plan).toMatchObject({ schema: 'shadowgate.plan/v1', suite: 'refund-triage', traces: cases(), alpha: 0.025, power: 0.8, design: 'one-sample' });
    expect(plan.figures.agreement).toBe(0.85);
    expect(plan.figures.agreementFrom).toMatch(/^assumed: the gate's agreement minimum/);
    // One sample against p₀ = 0.85, one-sided α = 0.025 (the level of a 95% lower bound), 80% power: the textbook size.
    const p0 = 0.85;
    expect(plan.rows.map((r: { drop: number }) => r.drop)).toEqual([0.02, 0.05, 0.1]);
    for (const row of plan.rows) {
      const p1 = p0 - row.drop;
      const n = Math.ceil((z.p975 * Math.sqrt(p0 * (1 - p0)) + z.p80 * Math.sqrt(p1 * (1 - p1))) ** 2 / row.drop ** 2);
      expect(row).toMatchObject({ needed: n, oneSample: n, enough: plan.traces >= n });
    }
    expect(plan.checks).toEqual([
      { name: 'agreement', min: 0.85, minimumTraces: expect.any(Number), enough: true },
      { name: 'errorRate', max: 0.02, minimumTraces: 189, enough: true },
    ]);
    expect(result.stdout).toContain('plan for refund-triage: 480 traces (cases)');
    expect(result.stdout).toContain('errorRate ≤ 2.0%: shown with no error from 189 traces: yes');
    expect(result.stdout).toMatch(/2 pts +[\d,]+ +[\d,]+ +no \(needs [\d,]+\)/);
  });

  it('takes agreement and noise from the latest stored run with a noise floor, and sizes the paired design of a margin gate', async () => {
    const run = await cli(dir, 'run', 'suites/margin.yaml', '--noise-floor', '--json', 'out/noisy.json', '--db', 'db/p.db');
    expect(run.code).toBe(1); // no baseline: the regressions check is inconclusive
    const stored = readJson('out/noisy.json');
    const result = await cli(dir, 'plan', 'suites/margin.yaml', '--json', 'out/plan-m.json', '--db', 'db/p.db');
    expect(result.code).toBe(0);
    const plan = readJson('out/plan-m.json');
    expect(plan).toMatchObject({ design: 'paired', alpha: 0.05, traces: 480 });
    expect(plan.figures.agreement).toBe(stored.metrics.agreement.rate);
    expect(plan.figures.agreementFrom).toBe(`agreement of the latest stored run ${stored.runId}`);
    const psi0 = stored.metrics.noiseFloor.selfDisagreement;
    expect(plan.figures.discordance).toBe(psi0);
    // Connor's McNemar sample size, ψ = ψ₀ + δ, one-sided α = 0.05.
    for (const row of plan.rows) {
      const psi = psi0 + row.drop;
      const n = Math.ceil((z.p95 * Math.sqrt(psi) + z.p80 * Math.sqrt(psi - row.drop ** 2)) ** 2 / row.drop ** 2);
      expect(row).toMatchObject({ needed: n, paired: n, enough: 480 >= n });
    }
    expect(plan.checks.find((c: { name: string }) => c.name === 'regressions')).toMatchObject({ margin: 0.05, enough: true });
    expect(result.stdout).toContain('regressions margin 5 pts');
  });

  it('takes the figures of --baseline, and is a clear error for a baseline that is not there', async () => {
    const stored = readJson('out/noisy.json');
    const ok = await cli(dir, 'plan', 'suites/margin.yaml', '--baseline', 'out/noisy.json', '--db', 'db/p.db');
    expect(ok.stdout).toContain(`agreement of baseline ${stored.runId}`);
    const missing = await cli(dir, 'plan', 'suites/margin.yaml', '--baseline', 'no-such-run', '--db', 'db/p.db');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: --baseline no-such-run is neither a results file nor a run in the store/);
  });
});
