import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

/**
 * The gate fails closed: unreadable lines, a suite with nothing to check, cost without
 * prices, an override rate without reviews and a drift threshold without data never
 * yield PASS; dry-run checks and --allow-inconclusive are shown, never silent.
 * Everything runs on a copy of the bundled example; the broken inputs are made here.
 */
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

const read = (file: string) => readFileSync(join(dir, file), 'utf8');
const readJson = (file: string) => JSON.parse(read(file));
const BASE = 'suites/refund-triage.yaml';
/** A variant of the bundled suite, its `gate:` block replaced (or removed, with ''). */
function suiteWithGate(name: string, gate: string): string {
  const text = read(BASE);
  const file = `suites/${name}.yaml`;
  writeFileSync(join(dir, file), `${text.slice(0, text.indexOf('\ngate:'))}\n${gate}`);
  return file;
}

describe('unreadable trace lines', () => {
  const TRUNCATED = 250;
  let lines = 0;
  let suite: string;
  const bad: string[] = [];

  beforeAll(() => {
    // A copy of the bundled traces with the first 250 lines cut in half (230 whole lines stay: enough for the error rate's floor under max 0.02), as a failed upload leaves them.
    const source = 'traces/refund-triage';
    mkdirSync(join(dir, 'traces/truncated'));
    for (const f of readdirSync(join(dir, source)).filter((f) => f.endsWith('.jsonl')).sort()) {
      const out = read(`${source}/${f}`).split('\n').map((line, i) => {
        if (!line) return line;
        lines++;
        if (bad.length >= TRUNCATED) return line;
        bad.push(`traces/truncated/${f}:${i + 1}`);
        return line.slice(0, Math.floor(line.length / 2));
      });
      writeFileSync(join(dir, 'traces/truncated', f), out.join('\n'));
    }
    suite = 'suites/truncated.yaml';
    writeFileSync(join(dir, suite), read(BASE).replace('["../traces/refund-triage/*.jsonl"]', '["../traces/truncated/*.jsonl"]'));
  });

  it('earns no promotion: phase leaves a run that could not read its input aside', async () => {
    // The same traces read whole: the run is evidence, and the shadow step has it.
    const whole = 'suites/whole.yaml';
    writeFileSync(join(dir, whole), read(BASE).replace('name: refund-triage', 'name: refund-triage-phase'));
    writeFileSync(join(dir, 'suites/cut.yaml'), read(suite).replace('name: refund-triage', 'name: refund-triage-phase'));
    expect((await cli(dir, 'run', 'suites/cut.yaml', '--db', 'db/phase.db')).code).toBe(1);
    expect((await cli(dir, 'phase', 'suites/cut.yaml', '--db', 'db/phase.db', '--json', 'out/phase-cut.json')).code).toBe(0);
    expect(readJson('out/phase-cut.json').suites[0].steps[0].evidence).toBeNull();
    expect(readJson('out/phase-cut.json').suites[0].steps[0].reason).toMatch(/^shadow → suggest: no shadow run is evidence: the latest, \S+, its coverage check was inconclusive: 250 of \d+ trace line\(s\) unreadable/);
    expect((await cli(dir, 'run', whole, '--db', 'db/phase.db', '--json', 'out/whole.json')).code).toBe(0);
    expect((await cli(dir, 'phase', whole, '--db', 'db/phase.db', '--json', 'out/phase-whole.json')).code).toBe(0);
    expect(readJson('out/phase-whole.json').suites[0].steps[0].evidence).toMatchObject({ runId: readJson('out/whole.json').runId });
  });

  it('makes gate inconclusive (exit 1), leading with the count and the first locations, while the good lines run', async () => {
    const { code, stdout } = await cli(dir, 'gate', suite, '--report', 'reports/truncated', '--db', 'db/t.db');
    expect(code).toBe(1);
    const results = readJson('reports/truncated/results.json');
    // The good lines ran, and every check on them passes: only coverage stands between this run and PASS.
    expect(results.results).toHaveLength(lines - TRUNCATED);
    const others = results.gate.checks.filter((c: { name: string }) => c.name !== 'coverage');
    expect(others.map((c: { name: string }) => c.name)).toEqual(['agreement', 'errorRate', 'policyViolations']);
    expect(others.map((c: { status: string }) => c.status)).toEqual(['pass', 'pass', 'pass']);
    expect(results.gate.verdict).toBe('inconclusive');
    expect(results.coverage).toEqual({ lines, unreadable: TRUNCATED, infrastructureMissing: 0, infrastructureFirst: [], firstLocations: bad.slice(0, 5) });
    const why = `${TRUNCATED} of ${lines} trace line(s) unreadable (${bad.slice(0, 5).join(', ')}, …)`;
    // The first lines of the summary say why.
    const summary = stdout.slice(stdout.indexOf('refund-triage · shadow')).split('\n');
    expect(summary[1]).toBe('  INCONCLUSIVE because');
    expect(summary[2]).toContain(`coverage: ${why}`);
    // Bad lines are still reported with file, line and what is wrong.
    expect(stdout).toContain(`${TRUNCATED} bad trace line(s) skipped:`);
    expect(stdout).toContain(`${bad[0]}: invalid JSON`);
    const md = read('reports/truncated/report.md').split('\n');
    expect(md[0]).toBe('## ⚠️ shadowgate: refund-triage INCONCLUSIVE');
    expect(md[2]).toContain(`**Inconclusive because** coverage: ${why}`);
    const html = read('reports/truncated/report.html');
    const verdict = html.slice(html.indexOf('<section class="verdict'), html.indexOf('</section>', html.indexOf('<section class="verdict')));
    expect(verdict).toContain('INCONCLUSIVE');
    expect(verdict).toContain(`coverage: ${TRUNCATED} of ${lines} trace line(s) unreadable`);
  });

  it('makes run with gate checks inconclusive too', async () => {
    const { code, stdout } = await cli(dir, 'run', suite, '--db', 'db/t.db');
    expect(code).toBe(1);
    expect(stdout).toContain('gate: INCONCLUSIVE');
  });

  it('accepts a loss that gate.coverage.min allows, and no more', async () => {
    const share = (lines - TRUNCATED) / lines;
    const text = read(suite);
    const below = Math.floor(share * 100) / 100;
    const above = Math.ceil(share * 100) / 100;
    writeFileSync(join(dir, 'suites/lossy.yaml'), text.replace('gate:\n', `gate:\n  coverage: { min: ${below} }\n`));
    writeFileSync(join(dir, 'suites/lossy-strict.yaml'), text.replace('gate:\n', `gate:\n  coverage: { min: ${above} }\n`));
    const ok = await cli(dir, 'gate', 'suites/lossy.yaml', '--db', 'db/t.db');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`✓ coverage: coverage ${(share * 100).toFixed(1)}%`);
    expect((await cli(dir, 'gate', 'suites/lossy-strict.yaml', '--db', 'db/t.db')).code).toBe(1);
  });

  it('exits 0 with --allow-inconclusive (and its older name), saying so, on run and gate', async () => {
    for (const [command, flag] of [['gate', '--allow-inconclusive'], ['run', '--allow-inconclusive'], ['run', '--no-fail-on-inconclusive']] as const) {
      const { code, stdout } = await cli(dir, command, suite, flag, '--db', 'db/t.db');
      expect(code, `${command} ${flag}`).toBe(0);
      expect(stdout).toContain('gate: INCONCLUSIVE');
      expect(stdout).toContain('note: the verdict is INCONCLUSIVE, not a pass; exit 0 because inconclusive is allowed');
    }
  });

  it('carries through shards into merge, each bad line counted once; merge takes --allow-inconclusive', async () => {
    for (const i of [1, 2]) expect((await cli(dir, 'run', suite, '--shard', `${i}/2`, '--json', `out/t-${i}.json`, '--db', 'db/t.db')).code).toBe(1);
    const merged = await cli(dir, 'merge', 'out/t-1.json', 'out/t-2.json', '--json', 'out/t-merged.json');
    expect(merged.code).toBe(1);
    const doc = readJson('out/t-merged.json');
    expect(doc.coverage).toEqual({ lines, unreadable: TRUNCATED, infrastructureMissing: 0, infrastructureFirst: [], firstLocations: bad.slice(0, 5) });
    expect(doc.issues).toHaveLength(TRUNCATED);
    expect(doc.gate.verdict).toBe('inconclusive');
    const allowed = await cli(dir, 'merge', 'out/t-1.json', 'out/t-2.json', '--allow-inconclusive');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('note: the verdict is INCONCLUSIVE');
  });
});

describe('a suite with nothing to gate on', () => {
  it('is a usage error for gate (exit 2); run says "no gate checks configured", never PASS', async () => {
    const none = suiteWithGate('no-gate', '');
    const gated = await cli(dir, 'gate', none, '--db', 'db/n.db');
    expect(gated.code).toBe(2);
    expect(gated.stderr).toContain('nothing to gate on: add checks under `gate:`');
    expect(gated.stdout).not.toContain('traces:'); // refused before anything ran
    const run = await cli(dir, 'run', none, '--report', 'reports/no-gate', '--db', 'db/n.db');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('gate: no gate checks configured');
    expect(run.stdout).not.toMatch(/PASS/);
    expect(read('reports/no-gate/report.md').split('\n')[0]).toBe('## ➖ shadowgate: refund-triage: no gate checks configured');
    expect(read('reports/no-gate/report.html')).not.toMatch(/>PASS</);
    expect(readJson('reports/no-gate/results.json').gate).toMatchObject({ checks: [], noChecks: true });
  });

  it('counts neither dry-run checks nor coverage alone as something to gate on', async () => {
    const dry = suiteWithGate('dry-only', 'gate:\n  agreement: { min: 0.85, dryRun: true }\n  coverage: { min: 0.5 }\n');
    const { code, stderr } = await cli(dir, 'gate', dry, '--db', 'db/n.db');
    expect(code).toBe(2);
    expect(stderr).toContain('nothing to gate on');
  });
});

describe('dry-run checks', () => {
  it('are measured and shown with a marker in every report, and leave the verdict as it is', async () => {
    // The bundled candidate agrees on 439/480: a point minimum of 0.99 fails it.
    const wet = suiteWithGate('wet', 'gate:\n  agreement: { min: 0.99, bound: point }\n  errorRate: { max: 0.02 }\n');
    const dry = suiteWithGate('dry', 'gate:\n  agreement: { min: 0.99, bound: point, dryRun: true }\n  errorRate: { max: 0.02 }\n');
    expect((await cli(dir, 'gate', wet, '--db', 'db/d.db')).code).toBe(1);
    const { code, stdout } = await cli(dir, 'gate', dry, '--report', 'reports/dry', '--db', 'db/d.db');
    expect(code).toBe(0);
    expect(stdout).toContain('gate: PASS');
    expect(stdout).toMatch(/✗ agreement: agreement \(\d+\/\d+\) [\d.]+% < 99\.0% \[dry run: not in the verdict\]/);
    const doc = readJson('reports/dry/results.json');
    expect(doc.gate.verdict).toBe('pass');
    expect(doc.gate.checks.find((c: { name: string }) => c.name === 'agreement')).toMatchObject({ status: 'fail', dryRun: true });
    const md = read('reports/dry/report.md');
    expect(md.split('\n')[0]).toBe('## ✅ shadowgate: refund-triage PASS');
    expect(md).toMatch(/### Dry-run checks \(measured, not in the verdict\)\n\n- ❌ \*\*agreement\*\* fail: .*\[dry run: not in the verdict\]/);
    expect(md).not.toContain('### Checks that did not pass');
    expect(read('reports/dry/report.html')).toContain('agreement [dry run: not in the verdict]');
  });
});

describe('checks without the evidence they need', () => {
  it('cost per run with unpriced traces is inconclusive, naming how many', async () => {
    // The recorded shadow log with one model renamed to one the pricing table does not know.
    const log = read('traces/refund-triage-shadow/shadow-log.jsonl').split('\n');
    const renamed = log.map((line, i) => (i % 4 === 0 ? line.replaceAll('"model":"gpt-4.1"', '"model":"made-up-model"') : line));
    mkdirSync(join(dir, 'traces/unpriced'));
    writeFileSync(join(dir, 'traces/unpriced/shadow-log.jsonl'), renamed.join('\n'));
    const suite = read('suites/refund-triage-shadow-log.yaml').replace('gate:\n', 'gate:\n  costPerRunUsd: { max: 1 }\n');
    writeFileSync(join(dir, 'suites/priced.yaml'), suite);
    writeFileSync(
      join(dir, 'suites/unpriced.yaml'),
      suite.replace('["../traces/refund-triage-shadow/*.jsonl"]', '["../traces/unpriced/*.jsonl"]'),
    );
    await cli(dir, 'run', 'suites/priced.yaml', '--json', 'out/priced.json', '--db', 'db/c.db');
    const priced = readJson('out/priced.json');
    expect(priced.metrics.cost.unpriced).toBe(0);
    expect(priced.gate.checks.find((c: { name: string }) => c.name === 'costPerRunUsd').status).toBe('pass');
    const { code } = await cli(dir, 'gate', 'suites/unpriced.yaml', '--json', 'out/unpriced.json', '--db', 'db/c.db');
    const doc = readJson('out/unpriced.json');
    const check = doc.gate.checks.find((c: { name: string }) => c.name === 'costPerRunUsd');
    expect(doc.metrics.cost.unpriced).toBeGreaterThan(0);
    expect(check).toMatchObject({ status: 'inconclusive', value: null });
    expect(check.reason).toContain(`${doc.metrics.cost.unpriced} trace(s) made model calls whose cost is unknown`);
    expect(doc.gate.verdict).not.toBe('pass');
    expect(code).toBe(1);
  });

  it("the cost trend is inconclusive against a baseline whose cost per run leaves unpriced traces out", async () => {
    // Written by the test above: out/priced.json and out/unpriced.json, runs of the same suite, one with a model the pricing table does not know.
    const auto = read('suites/priced.yaml').replace('phase: shadow', 'phase: auto').replace('gate:\n', 'gate:\n  costTrend: { maxRatio: 1.2 }\n');
    writeFileSync(join(dir, 'suites/auto-priced.yaml'), auto);
    const trend = async (baseline: string) => {
      await cli(dir, 'run', 'suites/auto-priced.yaml', '--baseline', baseline, '--json', 'out/trend.json', '--db', 'db/c.db');
      return readJson('out/trend.json').gate.checks.find((c: { name: string }) => c.name === 'costTrend');
    };
    expect(await trend('out/priced.json')).toMatchObject({ status: 'pass', value: 1 });
    const unpriced = readJson('out/unpriced.json');
    // The reason names the baseline and how many of its traces are of unknown cost.
    expect(await trend('out/unpriced.json')).toMatchObject({
      status: 'inconclusive',
      value: null,
      reason: `no cost per run of the baseline to compare with: the baseline ${unpriced.runId} has ${unpriced.metrics.cost.unpriced} trace(s) whose model calls are of unknown cost`,
    });
    expect(readJson('out/trend.json').metrics.phase.auto.costTrend.baselineCostUnknown).toContain(`${unpriced.metrics.cost.unpriced} trace(s)`);
    // A baseline written by an older shadowgate (no digest of its trace files) did not count calls without usage as unpriced: its cost is not taken, and the reason says so.
    const older = readJson('out/priced.json');
    delete older.settings.tracesHash;
    writeFileSync(join(dir, 'out/older.json'), JSON.stringify(older));
    const olderTrend = await trend('out/older.json');
    expect(olderTrend).toMatchObject({ status: 'inconclusive', value: null });
    expect(olderTrend.reason).toContain(`the baseline ${older.runId} was made by an older shadowgate`);
  });

  it('cost per run is inconclusive where model calls have no token usage recorded: their cost is unknown, not $0', async () => {
    // The recorded shadow log with the usage of every fourth trace's model calls taken away.
    const log = read('traces/refund-triage-shadow/shadow-log.jsonl').split('\n').filter(Boolean);
    const stripped = log.map((line, i) => {
      if (i % 4 !== 0) return line;
      const t = JSON.parse(line);
      for (const s of t.steps) if (s.type === 'llm') delete s.usage;
      return JSON.stringify(t);
    });
    mkdirSync(join(dir, 'traces/no-usage'));
    writeFileSync(join(dir, 'traces/no-usage/shadow-log.jsonl'), `${stripped.join('\n')}\n`);
    const suite = read('suites/refund-triage-shadow-log.yaml').replace('gate:\n', 'gate:\n  costPerRunUsd: { max: 1 }\n').replace('["../traces/refund-triage-shadow/*.jsonl"]', '["../traces/no-usage/*.jsonl"]');
    writeFileSync(join(dir, 'suites/no-usage.yaml'), suite);
    const { code } = await cli(dir, 'gate', 'suites/no-usage.yaml', '--json', 'out/no-usage.json', '--db', 'db/c.db');
    const doc = readJson('out/no-usage.json');
    const withoutUsage = doc.results.filter((r: { usage: unknown; steps: { type: string }[] }) => r.usage === null && r.steps.some((x) => x.type === 'llm')).length;
    expect(withoutUsage).toBeGreaterThan(0);
    expect(doc.metrics.cost.unpriced).toBe(withoutUsage);
    expect(doc.gate.checks.find((c: { name: string }) => c.name === 'costPerRunUsd')).toMatchObject({ status: 'inconclusive', value: null });
    expect(code).toBe(1);
  });

  it('a comparator that compares nothing (a misspelt field) passes no agreement, and phase credits no such run', async () => {
    const file = suiteWithGate('acton', 'gate:\n  agreement: { min: 0.5, bound: lower }\n  errorRate: { max: 0.02 }\n');
    writeFileSync(join(dir, file), read(file).replace('fields: [action, amount]', 'fields: [acton]'));
    const { code, stdout } = await cli(dir, 'run', file, '--json', 'out/acton.json', '--db', 'db/acton.db');
    const doc = readJson('out/acton.json');
    expect(doc.metrics.comparedNothing).toEqual({ fields: ['acton'], traces: doc.metrics.agreement.n });
    expect(doc.gate.checks.find((c: { name: string }) => c.name === 'agreement')).toMatchObject({ status: 'inconclusive', value: null });
    expect(stdout).toContain('? agreement: compare.decision.fields names "acton", which no decision on either side has over');
    expect(code).toBe(1);
    const phase = await cli(dir, 'phase', file, '--db', 'db/acton.db', '--json', 'out/acton-phase.json');
    const phased = readJson('out/acton-phase.json').suites[0];
    expect(phased.runs).toBe(0);
    expect(phase.code).toBe(0);
    // The run is there, and phase says why it is not credited rather than that there is none.
    expect(phased.steps[0].reason).toBe(`shadow → suggest: no shadow run is evidence: the latest, ${doc.runId}, its comparator compared nothing (compare.decision.fields names "acton", which no decision has)`);
    expect(phase.stdout).toContain(`no shadow run is evidence: the latest, ${doc.runId}`);
    expect(phased.setAside).toEqual([doc.runId]);
    expect(phase.stdout).toContain(`0 run(s) of it in the store that are evidence, 1 that are not (${doc.runId}: their input not all read or judged, nothing compared, or judged under other rules)`);
  });

  it('phase credits a run only under the rules the suite file has now: a looser comparator of the same suite name sets it aside; a changed gate or phase does not', async () => {
    const file = suiteWithGate('rules', 'gate:\n  agreement: { min: 0.5, bound: lower }\n  errorRate: { max: 0.02 }\n');
    const original = read(file);
    // The run made under a looser comparator (the action alone), then the suite file as it is now.
    writeFileSync(join(dir, file), original.replace('fields: [action, amount]', 'fields: [action]'));
    expect((await cli(dir, 'run', file, '--json', 'out/loose.json', '--db', 'db/rules.db')).code).toBe(0);
    const loose = readJson('out/loose.json').runId;
    writeFileSync(join(dir, file), original);
    const phase = await cli(dir, 'phase', file, '--db', 'db/rules.db', '--json', 'out/rules-phase.json');
    const phased = readJson('out/rules-phase.json').suites[0];
    expect(phased.runs).toBe(0);
    expect(phased.setAside).toEqual([loose]);
    expect(phased.steps[0].reason).toMatch(new RegExp(`^shadow → suggest: no shadow run is evidence: the latest, ${loose}, it was made under other rules than the suite file's now \\(traces, tool catalog, reference, compare,`));
    expect(phase.stdout).toContain('judged under other rules');
    // Its own run is credited, also after its gate, phase and description change.
    expect((await cli(dir, 'run', file, '--json', 'out/strict.json', '--db', 'db/rules.db')).code).toBe(0);
    const strict = readJson('out/strict.json').runId;
    writeFileSync(join(dir, file), original.replace('phase: shadow', 'phase: suggest').replace('description: ', 'description: edited; ').replace('errorRate: { max: 0.02 }', 'errorRate: { max: 0.03 }'));
    await cli(dir, 'phase', file, '--db', 'db/rules.db', '--json', 'out/rules-phase.json');
    const again = readJson('out/rules-phase.json').suites[0];
    expect(again.runs).toBe(1);
    expect(again.setAside).toEqual([loose]);
    expect(again.steps[0].evidence.runId).toBe(strict);
    // A run with --trials other than the file's ran under other rules too.
    await cli(dir, 'run', file, '--trials', '2', '--json', 'out/trials.json', '--db', 'db/rules.db');
    await cli(dir, 'phase', file, '--db', 'db/rules.db', '--json', 'out/rules-phase.json');
    const third = readJson('out/rules-phase.json').suites[0];
    expect(third.setAside).toEqual([readJson('out/trials.json').runId, loose]);
    expect(third.steps[0].evidence.runId).toBe(strict);
  });

  it('an override-rate check with no reviewed item is inconclusive (exit 1)', async () => {
    const suite = suiteWithGate('override', 'gate:\n  errorRate: { max: 0.02 }\n  overrideRate: { max: 0.2 }\n');
    const { code, stdout } = await cli(dir, 'gate', suite, '--db', 'db/o.db');
    expect(code).toBe(1);
    expect(stdout).toContain('? overrideRate: no reviewed items: the override rate needs review verdicts');
  });

  it('a drift threshold with no data in the window is inconclusive (exit 1), not a pass', async () => {
    const config = 'workflow: refund-triage\nwindow: 7d\nwindows: 2\nminTraces: 20\nthresholds:\n  overrideRate: { max: 0.5 }\n';
    writeFileSync(join(dir, 'drift-override.yaml'), config);
    // The bundled traces carry review verdicts; a copy without them has no override rate.
    const unreviewed = readdirSync(join(dir, 'traces/refund-triage'))
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => read(`traces/refund-triage/${f}`).split('\n'))
      .filter(Boolean)
      .map((line) => {
        const t = JSON.parse(line);
        delete t.human?.verdict;
        return JSON.stringify(t);
      });
    writeFileSync(join(dir, 'unreviewed.jsonl'), `${unreviewed.join('\n')}\n`);
    const reviewed = await cli(dir, 'drift', 'traces/refund-triage', '--config', 'drift-override.yaml', '--db', 'db/r.db');
    expect(reviewed.code).toBe(0);
    const missing = await cli(dir, 'drift', 'unreviewed.jsonl', '--config', 'drift-override.yaml', '--db', 'db/r.db');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('thresholds: INCONCLUSIVE (no data, or too few runs, for overrideRate.max (see each threshold\'s reason))');
  });
});
