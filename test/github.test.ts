/**
 * The GitHub workflows and the reusable action: they parse, they have the triggers, jobs and
 * inputs they promise, and every `shadowgate <command> --flag` they run exists in the CLI
 * (checked against the commander program itself, built in-process).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createProgram } from '../src/cli/program.js';
import type { CliIo } from '../src/cli/io.js';
import { extractInvocations, PLACEHOLDER, type Invocation } from './cli-invocations.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const workflowsDir = join(root, '.github', 'workflows');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Obj;
  env?: Obj;
  shell?: string;
  'continue-on-error'?: boolean | string;
  id?: string;
}

interface YamlFile {
  file: string; // relative to the repo root
  doc: Obj;
  steps: Array<{ job: string; step: Step }>;
}

function load(file: string): YamlFile {
  const doc = parse(readFileSync(file, 'utf8')) as Obj;
  const steps: YamlFile['steps'] = [];
  for (const [job, def] of Object.entries((doc.jobs ?? {}) as Obj)) for (const step of (def.steps ?? []) as Step[]) steps.push({ job, step });
  for (const step of (doc.runs?.steps ?? []) as Step[]) steps.push({ job: 'action', step });
  return { file: relative(root, file), doc, steps };
}

const workflowFiles = readdirSync(workflowsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => join(workflowsDir, f));
const files: YamlFile[] = [...workflowFiles, join(root, 'action.yml')].map(load);
const byName = (name: string): YamlFile => {
  const found = files.find((f) => f.file === name);
  if (!found) throw new Error(`${name} is missing`);
  return found;
};
const runs = (f: YamlFile, job?: string) => f.steps.filter((s) => (job ? s.job === job : true) && s.step.run).map((s) => s.step.run!);
const uses = (f: YamlFile, job?: string) => f.steps.filter((s) => (job ? s.job === job : true) && s.step.uses).map((s) => s.step);

// ---------------------------------------------------------------------------------------------
// The CLI as commander sees it

const io: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd() };
const program = createProgram(io, () => {});

/** Long flags a command accepts: its options (negated ones are listed as `--no-…` by commander), plus --help. */
function flagsOf(cmd: Command): Set<string> {
  const longs = cmd.options.map((o) => o.long).filter((l): l is string => Boolean(l));
  return new Set([...longs, '--help']);
}

/**
 * What one invocation needs that the CLI lacks: `shadowgate <cmd>` when the command is missing,
 * `shadowgate <cmd> --flag` for each flag the command does not take.
 */
function missingIn(inv: Invocation): string[] {
  let cmd: Command = program;
  const path: string[] = [];
  for (const word of inv.command) {
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break; // not a subcommand: a positional argument
    cmd = sub;
    path.push(word);
  }
  if (path.length === 0) return [inv.command[0] ? `shadowgate ${inv.command[0]} (no such command)` : `shadowgate with no command (${inv.line})`];
  const known = flagsOf(cmd);
  return inv.flags.filter((f) => !known.has(f)).map((f) => `shadowgate ${path.join(' ')} ${f}`);
}

const invocations = files.flatMap((f) => runs(f).flatMap((script) => extractInvocations(f.file, script)));

// ---------------------------------------------------------------------------------------------

describe('the invocation extractor', () => {
  it('finds commands and flags, and treats expressions and shell variables as placeholders', () => {
    const script = [
      'npx shadowgate gate ${{ inputs.suites }} --baseline "$BASELINE" --report reports/gate',
      'run_id=$(npx shadowgate runs --suite refund-triage --limit 20 | awk \'{ print $1 }\')',
      'npx shadowgate gate $SUITES ${BASELINE:+--baseline "$BASELINE"} --no-fail-on-inconclusive || code=$?',
      'echo "shadowgate gate: pass"',
      '# npx shadowgate nope --nope',
      'npx shadowgate run a.yaml \\',
      '  --shard ${{ matrix.shard }}/3 --json out.json',
    ].join('\n');
    const found = extractInvocations('x.yml', script);
    expect(found.map((i) => [i.command.join(' '), i.flags])).toEqual([
      ['gate', ['--baseline', '--report']],
      ['runs', ['--suite', '--limit']],
      ['gate', ['--baseline', '--no-fail-on-inconclusive']],
      ['run', ['--shard', '--json']],
    ]);
  });
});

describe('GitHub workflows and action', () => {
  it('every file parses as YAML and every workflow has triggers and jobs', () => {
    expect(workflowFiles.map((f) => relative(workflowsDir, f))).toEqual(expect.arrayContaining(['ci.yml', 'gate.yml', 'nightly.yml', 'shard.yml']));
    for (const f of files) {
      expect(f.doc, f.file).toBeTypeOf('object');
      if (f.file === 'action.yml') continue;
      expect(f.doc.on, `${f.file}: on`).toBeTruthy();
      expect(Object.keys(f.doc.jobs ?? {}).length, `${f.file}: jobs`).toBeGreaterThan(0);
      for (const [job, def] of Object.entries(f.doc.jobs as Obj)) expect(def['runs-on'], `${f.file}: ${job} runs-on`).toBeTruthy();
    }
  });

  it('every run script is valid bash', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const script of runs(f)) {
        const text = script.replace(/\$\{\{[\s\S]*?\}\}/g, PLACEHOLDER);
        const res = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
        if (res.status !== 0) bad.push(`${f.file}: ${res.stderr.trim()}\n${script}`);
      }
    }
    expect(bad, bad.join('\n\n')).toEqual([]);
  });

  it('ci.yml: push to main and pull requests, Node 20/22/24, Chromium, npm ci, typecheck, tests, the main job', () => {
    const ci = byName('.github/workflows/ci.yml');
    expect(ci.doc.on.push.branches).toContain('main');
    expect(ci.doc.on).toHaveProperty('pull_request');
    const job = Object.entries(ci.doc.jobs as Obj).find(([, def]) => def.strategy?.matrix?.node);
    expect(job, 'a job with a node matrix').toBeTruthy();
    const [name, def] = job!;
    expect(def.strategy.matrix.node).toEqual([20, 22, 24]);
    expect(uses(ci, name).find((s) => s.uses?.startsWith('actions/setup-node'))?.with?.['node-version']).toBe('${{ matrix.node }}');
    const scripts = runs(ci, name);
    const at = (re: RegExp) => scripts.findIndex((s) => re.test(s));
    const chromium = at(/sudo apt-get install -y chromium/);
    const npmCi = at(/^npm ci\b/m);
    const typecheck = at(/npm run typecheck/);
    const test = at(/^npm test\b/m);
    const main = at(/npx shadowgate run suites\/refund-triage\.yaml/);
    for (const [what, i] of Object.entries({ chromium, npmCi, typecheck, test, main })) expect(i, what).toBeGreaterThanOrEqual(0);
    expect(chromium).toBeLessThan(test);
    expect(npmCi).toBeLessThan(typecheck);
    expect(typecheck).toBeLessThan(test);
    expect(test).toBeLessThan(main);
  });

  it('gate.yml: PR paths, the base branch\'s stored runs from the cache, and the Action with this repository\'s suite', () => {
    const gate = byName('.github/workflows/gate.yml');
    expect(gate.doc.on.pull_request.paths).toEqual(expect.arrayContaining(['fixtures/**/prompts/**', 'suites/**', 'fixtures/**', 'src/**', 'action.yml']));
    expect(gate.doc.permissions?.['pull-requests'] ?? gate.doc.jobs.gate.permissions?.['pull-requests']).toBe('write');

    const cache = uses(gate, 'gate').find((s) => s.uses?.startsWith('actions/cache'));
    expect(cache?.with?.path).toMatch(/^\.shadowgate\/?$/);
    expect(String(cache?.with?.key)).toContain('${{ github.base_ref }}');

    const steps = uses(gate, 'gate');
    const action = steps.find((s) => s.uses === './');
    expect(action?.with).toEqual({ suites: 'suites/refund-triage.yaml', baseline: 'auto' });
    expect(steps.indexOf(cache!)).toBeLessThan(steps.indexOf(action!));
    expect(runs(gate, 'gate')).toEqual([]); // the Action does the work

    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'));
    expect(upload?.with?.path).toBe(action?.with?.['report-dir'] ?? byName('action.yml').doc.inputs['report-dir'].default);
    expect(String(upload?.if)).toMatch(/always\(\)/);
  });

  it('shard.yml: the suite split in three shards on pull requests, merged into one run', () => {
    const sharded = byName('.github/workflows/shard.yml');
    expect(sharded.doc.on).toHaveProperty('pull_request');
    const shard = Object.entries(sharded.doc.jobs as Obj).find(([, def]) => def.strategy?.matrix?.shard);
    expect(shard, 'a job with a shard matrix').toBeTruthy();
    expect(shard![1].strategy.matrix.shard).toEqual([1, 2, 3]);
    expect(runs(sharded, shard![0]).join('\n')).toContain(
      'npx shadowgate run suites/refund-triage.yaml --shard ${{ matrix.shard }}/3 --json shard-${{ matrix.shard }}.json',
    );
    expect(uses(sharded, shard![0]).some((s) => s.uses?.startsWith('actions/upload-artifact'))).toBe(true);
    const merge = Object.entries(sharded.doc.jobs as Obj).find(([, def]) => [def.needs].flat().includes(shard![0]));
    expect(merge, 'a job that needs the shards').toBeTruthy();
    expect(uses(sharded, merge![0]).some((s) => s.uses?.startsWith('actions/download-artifact'))).toBe(true);
    expect(runs(sharded, merge![0]).join('\n')).toContain('npx shadowgate merge shard-*.json --json merged.json');
  });

  it('nightly.yml: schedule and manual runs, every keyless suite with its report, the reports uploaded', () => {
    const nightly = byName('.github/workflows/nightly.yml');
    expect(nightly.doc.on.schedule?.[0]?.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(nightly.doc.on).toHaveProperty('workflow_dispatch');
    for (const suite of ['refund-triage', 'refund-triage-regression', 'refund-triage-replay']) {
      const step = nightly.steps.find((s) => new RegExp(`shadowgate \\w+ suites/${suite}\\.yaml .*--report reports/nightly/${suite}\\b`).test(s.step.run ?? ''));
      expect(step, suite).toBeTruthy();
      // Expected to fail: only exit 1 with the verdict fail passes the step; an inconclusive gate is not swallowed.
      if (suite === 'refund-triage-regression') {
        expect(step!.step['continue-on-error']).toBeUndefined();
        expect(step!.step.run).toMatch(/\|\| code=\$\?/);
        expect(step!.step.run).toContain('[ "$verdict" != "fail" ]');
      }
    }
    const upload = nightly.steps.find((s) => s.step.uses?.startsWith('actions/upload-artifact'));
    expect(String(upload?.step.with?.path)).toMatch(/^reports\/nightly/);
    expect(String(upload?.step.if)).toMatch(/always\(\)/);
  });

  it('nightly.yml: a drift step over the production traces, its report uploaded as an artifact', () => {
    const nightly = byName('.github/workflows/nightly.yml');
    const drift = nightly.steps.find((s) => /shadowgate drift /.test(s.step.run ?? ''))!;
    expect(drift.step.run).toMatch(/shadowgate drift "\$DRIFT_TRACES" --config \S+ --report reports\/nightly\/drift$/);
    expect(nightly.doc.jobs[drift.job].env.DRIFT_TRACES).toBe('traces/refund-triage');
    expect(drift.step.if).toMatch(/!cancelled\(\)/);
    const upload = nightly.steps.find((s) => s.step.uses?.startsWith('actions/upload-artifact') && s.step.with?.path === 'reports/nightly/drift');
    expect(upload?.step.with?.name).toBe('drift-report');
    expect(String(upload?.step.if)).toMatch(/always\(\)/);
  });

  it('no workflow and not the action hide an inconclusive gate: gate and merge steps keep exit 1 (allowing inconclusive only on the action\'s explicit input)', () => {
    const hiding: string[] = [];
    for (const f of files) {
      for (const { job, step } of f.steps) {
        const run = step.run ?? '';
        if (!/shadowgate (gate|merge) /.test(run)) continue;
        const where = `${f.file}: ${job}: ${step.name ?? run.slice(0, 40)}`;
        if (step['continue-on-error']) hiding.push(`${where}: continue-on-error`);
        if (/\|\|\s*(true|:)\b/.test(run)) hiding.push(`${where}: || true`);
        // A caught exit code must be passed on (exit "$code"), checked against the verdict, or (the
        // action) handed to the outputs step as CODE, which a later step exits with.
        const handedOn = f.file === 'action.yml' && /CODE="\$code"/.test(run);
        if (/\|\| code=\$\?/.test(run) && !/exit "?\$code"?/.test(run) && !/\$verdict" != "fail"/.test(run) && !handedOn) hiding.push(`${where}: swallows the exit code`);
        for (const line of run.split('\n').filter((l) => !/^\s*#/.test(l) && /--allow-inconclusive|--no-fail-on-inconclusive/.test(l))) {
          const guarded = f.file === 'action.yml' && /^\s*if \[ "\$FAIL_ON_INCONCLUSIVE" = "false" \]; then args\+=\(--allow-inconclusive\); fi$/.test(line);
          if (!guarded) hiding.push(`${where}: ${line.trim()}`);
        }
      }
    }
    expect(hiding).toEqual([]);
  });

  it('action.yml: a composite action with the promised inputs and outputs, exiting with the gate\'s code last', () => {
    const action = byName('action.yml').doc;
    expect(action.runs.using).toBe('composite');
    expect(action.inputs.suites.required).toBe(true);
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(['suites', 'baseline', 'node-version', 'report-dir', 'comment', 'junit']));
    expect(action.inputs.baseline.default).toBe('auto');
    expect(action.inputs['fail-on-inconclusive'].default).toBe('true');
    expect(action.inputs['report-dir'].default).toBe('reports/gate');
    expect(action.outputs.verdict.value).toMatch(/\$\{\{\s*steps\.\w+\.outputs\.verdict\s*\}\}/);
    for (const key of ['report-md', 'report-html', 'junit-xml', 'results-json']) expect(action.outputs[key]?.value, key).toMatch(/steps\.gate\.outputs/);
    const steps = action.runs.steps as Step[];
    for (const step of steps) if (step.run) expect(step.shell, `shell of "${step.name}"`).toBe('bash');
    expect(steps[0]?.uses).toMatch(/^actions\/setup-node@/);
    expect(steps[0]?.with?.['node-version']).toBe('${{ inputs.node-version }}');
    const scripts = steps.map((s) => s.run ?? '').join('\n');
    expect(scripts).toMatch(/cd "\$GITHUB_ACTION_PATH" && npm ci/);
    expect(scripts).toMatch(/shadowgate gate /);
    expect(steps.at(-1)?.run).toMatch(/exit "\$CODE"$/m);
  });

  it('every shadowgate command and flag the workflows and the action use exists in the CLI', () => {
    const used = new Set(invocations.map((i) => i.command[0]));
    for (const c of ['run', 'gate', 'merge']) expect(used, `workflows use shadowgate ${c}`).toContain(c);
    const where = new Map<string, Set<string>>();
    for (const inv of invocations) for (const name of missingIn(inv)) where.set(name, (where.get(name) ?? new Set()).add(inv.file));
    const missing = [...where].map(([name, in_]) => `${name}   (used in ${[...in_].join(', ')})`);
    expect(missing, `the CLI (src/cli/program.ts) lacks what the workflows call:\n  ${missing.join('\n  ')}\n`).toEqual([]);
  });
});
