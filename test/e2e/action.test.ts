/**
 * The GitHub Action (action.yml) run here, step by step, as a runner would (action-runner.ts), in a
 * temporary git repository of its own: a base commit on main holding a small suite (the bundled
 * example's files, one week of its traces) and head commits on a feature branch. GITHUB_ACTION_PATH
 * is this checkout, already built (the install step sees dist/ and skips npm ci); GITHUB_API_URL is a
 * local server standing in for the GitHub REST API's issue comments. The `uses:` step
 * (actions/setup-node) cannot run here and is skipped: the Node.js running the tests runs the steps.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAction, runAction, type ActionRun } from './action-runner.js';
import { ROOT } from './helpers.js';

const action = readAction(join(ROOT, 'action.yml'));
const TOKEN = 'test-token-not-a-secret';
const REPOSITORY = 'acme/support-agent';
const PULL = 7;

/** The issue comments of one pull request, as the GitHub REST API serves them (id, body, user), and the calls made. */
interface FakeGithub {
  server: Server;
  url: string;
  comments: { id: number; body: string; user: { login: string; type: string } }[];
  calls: string[];
}

async function startGithub(): Promise<FakeGithub> {
  const gh: FakeGithub = { server: undefined as unknown as Server, url: '', comments: [], calls: [] };
  // A comment of someone else's, so that the marker, not "the first comment", finds the action's own.
  gh.comments.push({ id: 100, body: 'Looks good to me', user: { login: 'ana', type: 'User' } });
  let next = 101;
  gh.server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      gh.calls.push(`${req.method} ${url.pathname}`);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { message: 'Bad credentials' });
      const list = `/repos/${REPOSITORY}/issues/${PULL}/comments`;
      if (req.method === 'GET' && url.pathname === list) {
        const perPage = Number(url.searchParams.get('per_page') ?? 30);
        const page = Number(url.searchParams.get('page') ?? 1);
        return send(200, gh.comments.slice((page - 1) * perPage, page * perPage));
      }
      if (req.method === 'POST' && url.pathname === list) {
        const comment = { id: next++, body: (JSON.parse(raw) as { body: string }).body, user: { login: 'github-actions[bot]', type: 'Bot' } };
        gh.comments.push(comment);
        return send(201, comment);
      }
      const one = /^\/repos\/acme\/support-agent\/issues\/comments\/(\d+)$/.exec(url.pathname);
      const found = one && gh.comments.find((c) => c.id === Number(one[1]));
      if (req.method === 'PATCH' && found) {
        found.body = (JSON.parse(raw) as { body: string }).body;
        return send(200, found);
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((done) => gh.server.listen(0, '127.0.0.1', done));
  gh.url = `http://127.0.0.1:${(gh.server.address() as AddressInfo).port}`;
  return gh;
}

let repo: string;
let scratch: string;
let gh: FakeGithub;

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const shadowgate = (...args: string[]) => {
  try {
    return { code: 0, stdout: execFileSync(process.execPath, [join(ROOT, 'bin/shadowgate.js'), ...args], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } }) };
  } catch (error) {
    return { code: (error as { status: number }).status, stdout: String((error as { stdout: unknown }).stdout) };
  }
};
const readJson = (file: string) => JSON.parse(readFileSync(join(repo, file), 'utf8'));
const copy = (from: string, to = from) => {
  mkdirSync(dirname(join(repo, to)), { recursive: true });
  cpSync(join(ROOT, from), join(repo, to));
};
/** A suite file of the example with some of its lines replaced. */
const suiteFrom = (from: string, to: string, replace: [string, string][]) => {
  let text = readFileSync(join(ROOT, from), 'utf8');
  for (const [a, b] of replace) {
    if (!text.includes(a)) throw new Error(`${from} has no ${a}`);
    text = text.replace(a, b);
  }
  writeFileSync(join(repo, to), text);
};

/** The environment GitHub sets for a step, for a pull_request event (or a push, without base ref and payload). */
function githubEnv(event: 'pull_request' | 'push', extra: Record<string, string> = {}): Record<string, string> {
  const eventPath = join(scratch, `${event}.json`);
  const payload =
    event === 'pull_request'
      ? { action: 'synchronize', number: PULL, pull_request: { number: PULL, base: { ref: 'main' }, head: { ref: 'feature' } }, repository: { full_name: REPOSITORY } }
      : { ref: 'refs/heads/main', repository: { full_name: REPOSITORY } };
  writeFileSync(eventPath, JSON.stringify(payload));
  const summary = join(scratch, 'summary.md');
  writeFileSync(summary, '');
  return {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? scratch,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: repo,
    GITHUB_ACTION_PATH: ROOT,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_API_URL: gh.url,
    GITHUB_TOKEN: TOKEN,
    ...(event === 'pull_request' ? { GITHUB_BASE_REF: 'main', GITHUB_HEAD_REF: 'feature', GITHUB_REF: `refs/pull/${PULL}/merge` } : { GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' }),
    ...extra,
  };
}

const run = (event: 'pull_request' | 'push', inputs: Record<string, string>): Promise<ActionRun> => runAction(action, { cwd: repo, inputs, env: githubEnv(event) });
const mine = () => gh.comments.filter((c) => c.body.startsWith('<!-- shadowgate-gate-report -->'));

beforeAll(async () => {
  gh = await startGithub();
  repo = mkdtempSync(join(tmpdir(), 'sg-action-repo-'));
  scratch = mkdtempSync(join(tmpdir(), 'sg-action-env-'));
  // The caller's repository: the bundled example's files, with one week of its traces.
  for (const f of ['fixtures/refund-triage/tools.yaml', 'fixtures/refund-triage/agents/policy-v1.mjs', 'fixtures/refund-triage/agents/regression-v2.mjs', 'fixtures/refund-triage/prompts/triage.v3.hbs']) copy(f);
  copy('traces/refund-triage/2026-w44.jsonl');
  mkdirSync(join(repo, 'suites'));
  // One week is 152 traces: too few to show an error rate of at most 2% (189), enough for 5% (73).
  const week: [string, string] = ['errorRate: { max: 0.02 }', 'errorRate: { max: 0.05 }'];
  suiteFrom('suites/refund-triage.yaml', 'suites/refund-triage.yaml', [week]);
  suiteFrom('suites/refund-triage-regression.yaml', 'suites/refund-triage-regression.yaml', [week]);
  // The same suite name with a tool-loop candidate (another kind): its runs are no baseline of the module.
  suiteFrom('suites/refund-triage-replay.yaml', 'suites/replay-kind.yaml', [['name: refund-triage-replay', 'name: refund-triage']]);
  writeFileSync(join(repo, '.gitignore'), '.shadowgate/\nreports/\n');
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
}, 60_000);

afterAll(async () => {
  await new Promise((done) => gh.server.close(done));
  rmSync(repo, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('the Action, run locally with the variables GitHub sets', { timeout: 120_000 }, () => {
  let baseRun: string;

  it('skips only the setup-node step here, and never puts an expression inside a script', async () => {
    for (const step of action.runs.steps) {
      if (step.uses) expect(step.uses).toMatch(/^actions\/setup-node@/);
      else expect(step.run, step.name).not.toContain('${{');
    }
  });

  it('on a push to main: gates the suite without a baseline (none on a push), stores the run, does not comment', async () => {
    const result = await run('push', { suites: 'suites/refund-triage.yaml' });
    expect(result.skipped).toEqual(['Set up Node.js (actions/setup-node@v4)']);
    expect(result.log).toContain(`shadowgate is built in ${ROOT}`);
    expect(result.code, result.log).toBe(0);
    expect(result.outputs).toMatchObject({
      verdict: 'pass',
      'report-dir': 'reports/gate',
      'report-md': 'reports/gate/report.md',
      'report-html': 'reports/gate/report.html',
      'junit-xml': 'reports/gate/junit.xml',
      'results-json': 'reports/gate/results.json',
    });
    for (const key of ['report-md', 'report-html', 'junit-xml', 'results-json']) expect(existsSync(join(repo, result.outputs[key]!)), key).toBe(true);
    expect(result.log).toContain('refund-triage: baseline auto: none (no base branch');
    const results = readJson('reports/gate/results.json');
    expect(results.metrics.paired).toBeUndefined();
    expect(results.git).toMatchObject({ ref: 'main', commit: git('rev-parse', 'HEAD') });
    baseRun = results.runId;
    expect(result.log).toContain('no comment: the event is push, not pull_request');
    expect(gh.calls).toEqual([]);
    expect(readFileSync(join(scratch, 'summary.md'), 'utf8')).toContain('**shadowgate gate: `pass`** (exit 0)');
  });

  it('on a pull request: baseline auto is the base branch\'s run of the same suite and candidate kind; the comment is created once', async () => {
    // Newer runs on main that are not this suite's module candidate: another kind of the same suite name, another suite.
    const otherKind = shadowgate('run', 'suites/replay-kind.yaml', '--json', 'out/other-kind.json');
    expect(otherKind.code, otherKind.stdout).toBeLessThanOrEqual(1);
    const otherSuite = shadowgate('run', 'suites/refund-triage-regression.yaml', '--json', 'out/other-suite.json');
    expect(otherSuite.code, otherSuite.stdout).toBeLessThanOrEqual(1);
    expect(readJson('out/other-kind.json').suite.name).toBe('refund-triage');

    git('checkout', '-q', '-b', 'feature');
    writeFileSync(join(repo, 'suites/refund-triage.yaml'), `${readFileSync(join(repo, 'suites/refund-triage.yaml'), 'utf8')}# reviewed\n`);
    git('commit', '-q', '-am', 'head');

    const result = await run('pull_request', { suites: 'suites/refund-triage.yaml' });
    expect(result.code, result.log).toBe(0);
    expect(result.outputs.verdict).toBe('pass');
    const results = readJson('reports/gate/results.json');
    expect(results.metrics.paired.baselineRunId).toBe(baseRun);
    expect(results.metrics.paired.regressions).toEqual([]);
    expect(result.log).toContain(`refund-triage: baseline auto: run ${baseRun}`);

    expect(mine()).toHaveLength(1);
    expect(gh.calls.filter((c) => c.startsWith('POST'))).toEqual([`POST /repos/${REPOSITORY}/issues/${PULL}/comments`]);
    expect(mine()[0]!.body).toContain('**shadowgate gate: `pass`** (exit 0)');
    expect(mine()[0]!.body).toContain(readFileSync(join(repo, 'reports/gate/report.md'), 'utf8').trim());
  });

  it('baseline none runs without one; the second run updates the comment instead of adding one; junit gate writes a testcase per check', async () => {
    const before = gh.calls.length;
    const result = await run('pull_request', { suites: 'suites/refund-triage.yaml', baseline: 'none', junit: 'gate' });
    expect(result.code, result.log).toBe(0);
    // junit: gate, one testcase per gate check, each named after its check.
    const checks = readJson('reports/gate/results.json').gate.checks as { name: string }[];
    const junit = readFileSync(join(repo, result.outputs['junit-xml']!), 'utf8');
    expect(checks.length).toBeGreaterThan(0);
    expect(junit.match(/<testcase /g)).toHaveLength(checks.length);
    for (const check of checks) expect(junit).toContain(`name="${check.name}`);
    expect(readJson('reports/gate/results.json').metrics.paired).toBeUndefined();
    expect(result.log).not.toContain('baseline auto');
    const calls = gh.calls.slice(before);
    expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([`PATCH /repos/${REPOSITORY}/issues/comments/${mine()[0]!.id}`]);
    expect(mine()).toHaveLength(1);
    expect(gh.comments).toHaveLength(2); // someone else's, and the action's
  });

  it('a failing gate: verdict fail, exit 1, the comment updated to say so; several suites by glob, each with its own baseline', async () => {
    const suite = readFileSync(join(repo, 'suites/refund-triage.yaml'), 'utf8');
    writeFileSync(join(repo, 'suites/refund-triage.yaml'), suite.replace('agents/policy-v1.mjs', 'agents/regression-v2.mjs'));
    git('commit', '-q', '-am', 'the regression as candidate');

    const result = await run('pull_request', { suites: 'suites/refund-triage.yaml\n  suites/refund-triage-reg*.yaml' });
    expect(result.code, result.log).toBe(1);
    expect(result.outputs.verdict).toBe('fail');
    expect(result.outputs['report-md']).toBe('reports/gate/refund-triage/report.md\nreports/gate/refund-triage-regression/report.md');
    const main = readJson('reports/gate/refund-triage/results.json');
    expect(main.gate.verdict).toBe('fail');
    expect(main.metrics.paired.baselineRunId).toBe(baseRun);
    expect(main.metrics.paired.regressions.length).toBeGreaterThan(0);
    const regression = readJson('reports/gate/refund-triage-regression/results.json');
    expect(regression.metrics.paired.baselineRunId).toBe(readJson('out/other-suite.json').runId);

    expect(mine()).toHaveLength(1);
    expect(mine()[0]!.body).toContain('**shadowgate gate: `fail`** (exit 1)');
    expect(result.log).toContain('shadowgate gate: fail (exit 1)');
  });

  it('fail-on-inconclusive and the exit code: an inconclusive gate fails, unless allowed; the verdict still says inconclusive', async () => {
    // A gate on paired regressions with no baseline: inconclusive, never a pass.
    const suite = readFileSync(join(repo, 'suites/refund-triage.yaml'), 'utf8').replace('agents/regression-v2.mjs', 'agents/policy-v1.mjs');
    writeFileSync(join(repo, 'suites/refund-triage.yaml'), suite.replace('  policyViolations: { max: 0 }', '  policyViolations: { max: 0 }\n  regressions: { max: 0 }'));
    const strict = await run('pull_request', { suites: 'suites/refund-triage.yaml', baseline: 'none', comment: 'false' });
    expect(strict.outputs.verdict).toBe('inconclusive');
    expect(strict.code).toBe(1);
    expect(strict.log).toContain('no comment: the comment input is false');
    const allowed = await run('pull_request', { suites: 'suites/refund-triage.yaml', baseline: 'none', comment: 'false', 'fail-on-inconclusive': 'false' });
    expect(allowed.outputs.verdict).toBe('inconclusive');
    expect(allowed.code).toBe(0);
  });

  it('a glob that matches nothing, or a suite that does not load, fails the step (exit 2; verdict error)', async () => {
    const none = await run('pull_request', { suites: 'suites/nope-*.yaml', comment: 'false' });
    expect(none.code).toBe(2);
    expect(none.log).toContain('::error::suites: no file matches suites/nope-*.yaml');
    expect(none.outputs.verdict).toBe('error');
    writeFileSync(join(repo, 'suites/broken.yaml'), 'name: broken\n');
    const broken = await run('pull_request', { suites: 'suites/broken.yaml', comment: 'false' });
    expect(broken.code).toBe(2);
    expect(broken.outputs.verdict).toBe('error');
    expect(broken.outputs['report-md']).toBe('');
  });
});
