import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  // A repository of its own, so that runs are stored with a branch to select a baseline by.
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-qm', 'example');
});
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

describe('shadowgate gate', () => {
  it('takes the latest run of a branch as the baseline, writes the reports, fills the step summary, exits 1', async () => {
    expect((await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', 'db/g.db')).code).toBe(0);
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    // The change under review: the same suite, with the regressed module.
    const suite = join(dir, 'suites/refund-triage.yaml');
    const original = readFileSync(suite, 'utf8');
    writeFileSync(suite, original.replace('agents/policy-v1.mjs', 'agents/regression-v2.mjs'));
    let out = '';
    const code = await runCli(['gate', 'suites/refund-triage.yaml', '--baseline', 'ref:main', '--report', 'reports/gate', '--db', 'db/g.db'], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (out += s) },
      env: { CI: 'true', GITHUB_STEP_SUMMARY: summary },
      cwd: dir,
    });
    writeFileSync(suite, original);
    expect(code).toBe(1);
    for (const f of ['report.md', 'junit.xml', 'results.json', 'report.html']) expect(existsSync(join(dir, 'reports/gate', f)), f).toBe(true);
    expect(readFileSync(join(dir, 'reports/gate/report.html'), 'utf8')).toContain('Content-Security-Policy');
    const md = readFileSync(join(dir, 'reports/gate/report.md'), 'utf8');
    expect(md.split('\n')[0]).toBe('## ❌ shadowgate: refund-triage FAIL');
    expect(md).toMatch(/### Checks that did not pass\n\n\| check \| value \| threshold \| status \| reason \|/);
    expect(md).toMatch(/- \*\*Regressions\*\* \(agreed, now disagree or no outcome by the candidate\): `rt-/);
    expect(md).toMatch(/\| agreement \| 81\.5% \| 91\.5% \| −10\.0 pp \|/);
    expect(readFileSync(summary, 'utf8')).toBe(`${md}\n`);
    const junit = readFileSync(join(dir, 'reports/gate/junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(480);
    expect(junit).toContain('failures="89"');
    expect(junit).toMatch(/<failure type="disagreement" message="decided \{&quot;action&quot;:&quot;refund&quot;[^"]*Left the recorded path at step 3: issue_refund/);
  });

  it('with several suites, finds every suite\'s baseline before running any: one missing refuses the run with nothing run or written', async () => {
    // db/b.db holds a run of refund-triage on main, and none of the second suite.
    expect((await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', 'db/b.db')).code).toBe(0);
    writeFileSync(join(dir, 'suites/second.yaml'), readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace('name: refund-triage', 'name: second'));
    const refused = await cli(dir, 'gate', 'suites/refund-triage.yaml', 'suites/second.yaml', '--baseline', 'ref:main', '--json', 'out/multi.json', '--db', 'db/b.db');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('no finished run of second at git ref main');
    expect(existsSync(join(dir, 'out/multi.refund-triage.json'))).toBe(false);
    const { createSqliteStore } = await import('../../src/store/sqlite.js');
    const store = createSqliteStore(join(dir, 'db/b.db'));
    expect(store.listRuns().map((r) => r.suite)).toEqual(['refund-triage']);
    store.close();
  });

  it('refuses several suites of one name in one run: their reports and results would overwrite each other', async () => {
    writeFileSync(join(dir, 'suites/same-name.yaml'), readFileSync(join(dir, 'suites/refund-triage-regression.yaml'), 'utf8').replace(/^name: .*$/m, 'name: refund-triage'));
    const refused = await cli(dir, 'gate', 'suites/refund-triage.yaml', 'suites/same-name.yaml', '--report', 'reports/same', '--db', 'db/same.db');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('suites/refund-triage.yaml and suites/same-name.yaml are both suite refund-triage');
    expect(existsSync(join(dir, 'reports/same'))).toBe(false);
    // Names that differ in case only name one folder on macOS and Windows; `..` names the folder above.
    writeFileSync(join(dir, 'suites/same-name.yaml'), readFileSync(join(dir, 'suites/refund-triage-regression.yaml'), 'utf8').replace(/^name: .*$/m, 'name: Refund-Triage'));
    expect((await cli(dir, 'gate', 'suites/refund-triage.yaml', 'suites/same-name.yaml', '--report', 'reports/same', '--db', 'db/same.db')).stderr).toContain('are both suite Refund-Triage (names are told apart without case)');
    writeFileSync(join(dir, 'suites/dotdot.yaml'), readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace(/^name: .*$/m, 'name: ".."'));
    const dotdot = await cli(dir, 'gate', 'suites/dotdot.yaml', '--db', 'db/same.db');
    expect(dotdot.code).toBe(2);
    expect(dotdot.stderr).toContain('name: suite names are letters, digits, _ . - (not `.` or `..`, which name folders)');
  });

  it('fails on an inconclusive verdict unless told not to', async () => {
    const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace('  errorRate: { max: 0.02 }', '  errorRate: { max: 0.02 }\n  regressions: { max: 0 }');
    writeFileSync(join(dir, 'suites/needs-baseline.yaml'), suite);
    expect((await cli(dir, 'gate', 'suites/needs-baseline.yaml', '--db', 'db/h.db')).code).toBe(1);
    expect((await cli(dir, 'gate', 'suites/needs-baseline.yaml', '--no-fail-on-inconclusive', '--db', 'db/h.db')).code).toBe(0);
  });
});

describe('sharding', () => {
  it('splits the traces three ways and merges them into the figures of an unsharded run', async () => {
    expect((await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--json', 'out/whole.json', '--db', 'db/s.db')).code).toBe(1);
    for (const i of [1, 2, 3]) await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--shard', `${i}/3`, '--json', `out/shard-${i}.json`, '--db', 'db/s.db');
    const sizes = [1, 2, 3].map((i) => readJson(`out/shard-${i}.json`).results.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(480);
    expect(Math.min(...sizes)).toBeGreaterThan(100); // a roughly even split
    const merged = await cli(dir, 'merge', 'out/shard-1.json', 'out/shard-2.json', 'out/shard-3.json', '--json', 'out/merged.json');
    expect(merged.code).toBe(1);
    const whole = readJson('out/whole.json');
    const all = readJson('out/merged.json');
    // Latency is measured afresh on every run; every other figure must be equal.
    const comparable = (m: Record<string, unknown>) => ({ ...m, latency: undefined });
    expect(comparable(all.metrics)).toEqual(comparable(whole.metrics));
    expect(all.counts).toEqual(whole.counts);
    expect(all.gate.verdict).toBe(whole.gate.verdict);
    expect(all.gate.checks.map((c: { name: string; value: number }) => [c.name, c.value])).toEqual(whole.gate.checks.map((c: { name: string; value: number }) => [c.name, c.value]));
  });

  it('refuses to merge files of different suites, or the same shard twice', async () => {
    await cli(dir, 'run', 'suites/refund-triage.yaml', '--shard', '1/3', '--json', 'out/other.json', '--db', 'db/s.db');
    const mixed = await cli(dir, 'merge', 'out/shard-1.json', 'out/other.json');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('suite.hash: another suite');
    const twice = await cli(dir, 'merge', 'out/shard-1.json', 'out/shard-1.json', 'out/shard-2.json');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('the shards given are 1, 1, 2 of 3; merge needs each of 1…3 once');
    const missing = await cli(dir, 'merge', 'out/shard-1.json', 'out/shard-2.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('the shards given are 1, 2 of 3');
    expect((await cli(dir, 'run', 'suites/refund-triage.yaml', '--shard', '4/3')).code).toBe(2);
  });

  it('never takes a shard as the baseline: not of a branch, nor named by its run id or results file', async () => {
    // db/s.db holds shard runs of the regression suite made on main, and one whole run.
    const { stdout } = await cli(dir, 'runs', '--db', 'db/s.db');
    expect(stdout).toMatch(/\(shard 3\/3\)/);
    await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--shard', '1/3', '--json', 'out/shard-base.json', '--db', 'db/s.db');
    const gated = await cli(dir, 'gate', 'suites/refund-triage-regression.yaml', '--baseline', 'ref:main', '--json', 'out/ref.json', '--db', 'db/s.db');
    expect(gated.stdout).toContain('480 traces paired');
    // Named, a shard would leave two thirds of the run uncompared, and a regressions check pass on the third.
    const shardRun = readJson('out/shard-base.json').runId;
    const byId = await cli(dir, 'gate', 'suites/refund-triage-regression.yaml', '--baseline', shardRun, '--db', 'db/s.db');
    expect(byId.code).toBe(2);
    expect(byId.stderr).toContain(`--baseline ${shardRun} is shard 1/3 of a split run, not a whole run: it is no baseline`);
    const byFile = await cli(dir, 'gate', 'suites/refund-triage-regression.yaml', '--baseline', 'out/shard-base.json', '--db', 'db/s.db');
    expect(byFile.code).toBe(2);
    expect(byFile.stderr).toContain('--baseline out/shard-base.json is the results of shard 1/3 alone, not a whole run: it is no baseline');
  });
});

describe('shadowgate show', () => {
  it("replays one stored trace step by step, marking where it left the recorded path, in well under a second", async () => {
    await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--json', 'out/show.json', '--db', 'db/show.db');
    const { runId, results } = readJson('out/show.json');
    const diverged = results.find((r: { divergence: unknown; agree: boolean }) => r.divergence && r.agree === false);
    const started = performance.now();
    const { code, stdout } = await cli(dir, 'show', runId, diverged.traceId, '--db', 'db/show.db');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(code).toBe(0);
    const marked = stdout.split('\n').find((l: string) => l.startsWith('▶'));
    expect(marked).toContain(diverged.divergence.candidate.name);
    expect(stdout).toContain(`left the recorded path at step ${diverged.divergence.stepIndex}`);
    expect(stdout).toContain(`recording: ${diverged.divergence.recorded.name}`);
    const list = await cli(dir, 'show', runId, '--db', 'db/show.db');
    expect(list.stdout).toContain(`${diverged.traceId}  completed, disagrees, diverged at step ${diverged.divergence.stepIndex}`);
    expect((await cli(dir, 'show', runId, 'no-such-trace', '--db', 'db/show.db')).code).toBe(2);
  });
});
