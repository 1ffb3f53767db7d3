import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SCAFFOLD } from '../../src/cli/init.js';
import { EFFECT_CLASSES } from '../../src/trace/catalog.js';
import { cli, ROOT } from './helpers.js';

/** The built CLI, as a user runs it (`npx shadowgate …` runs bin/shadowgate.js). */
function shadowgate(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/shadowgate.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-init-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('shadowgate init', () => {
  it('scaffolds a project whose suite runs straight away, passes its gate with effects agreement measured, and validates', { timeout: 120_000 }, () => {
    const made = shadowgate(dir, 'init', 'proj');
    expect(made.code).toBe(0);
    const proj = join(dir, 'proj');
    expect(SCAFFOLD.filter((f) => !existsSync(join(proj, f.to)))).toEqual([]);

    const run = shadowgate(proj, 'run', 'suite.yaml', '--json', 'out/results.json');
    expect({ code: run.code, stderr: run.stderr.replace(/^access-requests: .*\n/gm, '') }).toEqual({ code: 0, stderr: '' });
    const results = JSON.parse(readFileSync(join(proj, 'out/results.json'), 'utf8')) as {
      gate: { verdict: string; checks: { name: string; status: string }[] };
      metrics: { effectsAgreement: { n: number } | null; agreement: { n: number } };
      counts: { total: number };
    };
    expect(results.gate.verdict).toBe('pass');
    expect(results.gate.checks.map((c) => c.name)).toContain('effectsAgreement');
    // human.actions on every trace: effects agreement is measured on all of them, not n/a.
    expect(results.metrics.effectsAgreement?.n).toBe(results.counts.total);
    expect(results.metrics.agreement.n).toBe(results.counts.total);

    const validated = shadowgate(proj, 'validate', '.');
    expect(validated.code).toBe(0);
    expect(validated.stdout).toMatch(/ok {3}suite\.yaml \(suite\)\nok {3}tools\.yaml \(tool catalog\)\nok {3}traces\/example\.jsonl/);
  });

  it('writes the scaffold into the current folder by default, and its workflow uses the Action with its inputs', async () => {
    const { code } = await cli(dir, 'init');
    expect(code).toBe(0);
    const workflow = parse(readFileSync(join(dir, '.github/workflows/shadowgate.yml'), 'utf8')) as {
      jobs: { gate: { steps: { uses?: string; with?: Record<string, unknown> }[] } };
    };
    const step = workflow.jobs.gate.steps.find((s) => s.uses?.endsWith('/shadowgate@v1'));
    expect(Object.keys(step?.with ?? {}).sort()).toEqual(['baseline', 'comment', 'junit', 'node-version', 'report-dir', 'suites']);
    expect(step?.with?.suites).toBe('suite.yaml');
  });

  it('refuses to overwrite a file, naming it, and writes nothing; --force overwrites', async () => {
    mkdirSync(join(dir, 'traces'));
    writeFileSync(join(dir, 'traces/example.jsonl'), 'mine\n');
    const refused = await cli(dir, 'init');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: ${join('traces', 'example.jsonl')}: already exists`);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'traces/example.jsonl'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(dir, 'suite.yaml'))).toBe(false);

    const forced = await cli(dir, 'init', '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'traces/example.jsonl'), 'utf8')).toBe(readFileSync(join(ROOT, 'templates/init/traces/example.jsonl'), 'utf8'));
  });

  it('says so, exit 2, when the folder named is a file', async () => {
    writeFileSync(join(dir, 'taken'), '');
    const { code, stderr } = await cli(dir, 'init', 'taken');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: cannot make the folder for taken\/suite\.yaml: /);
  });
});

describe('shadowgate init --from', () => {
  const fixture = join(ROOT, 'test/fixtures/init/recorded.jsonl');

  it('drafts a catalog of every tool seen, with argument schemas inferred from the recorded calls and every effect unknown', async () => {
    const { code, stdout } = await cli(dir, 'init', '--from', fixture, 'drafted');
    expect(code).toBe(0);
    expect(stdout).toContain(`created ${join('drafted', 'tools.yaml')}`);
    expect(parse(readFileSync(join(dir, 'drafted/tools.yaml'), 'utf8'))).toEqual({
      tools: [
        {
          name: 'find_order',
          effect: 'unknown',
          parameters: { type: 'object', properties: { order_id: { type: 'string' }, include_history: { type: 'boolean' } }, required: ['order_id'] },
        },
        {
          name: 'update_shipment',
          effect: 'unknown',
          parameters: {
            type: 'object',
            properties: {
              order_id: { type: 'string' },
              address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string' } }, required: ['city'] },
              items: {
                type: 'array',
                items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'number' }, note: { type: 'string' } }, required: ['sku', 'qty'] },
              },
              priority: { type: 'number' },
            },
            required: ['order_id', 'address', 'items', 'priority'],
          },
        },
        { name: 'refund_order', effect: 'unknown', parameters: { type: 'object', properties: { order_id: { type: 'string' }, amount: { type: 'number' } }, required: ['order_id', 'amount'] } },
      ],
    });
  });

  it('leaves a catalog that validate and run refuse, at each effect, until an effect class is chosen', async () => {
    await cli(dir, 'init');
    expect((await cli(dir, 'init', '--from', fixture, '--force')).code).toBe(0);
    cpSync(fixture, join(dir, 'traces/example.jsonl'));
    const text = readFileSync(join(dir, 'tools.yaml'), 'utf8');
    // The line of the `effect: unknown` under each tool's name: where the error must point.
    const lines = text.split('\n');
    const lineOf = (tool: string) => {
      const at = lines.findIndex((l) => l.trim() === `- name: ${tool}`);
      return lines.findIndex((l, i) => i > at && l.trim() === 'effect: unknown') + 1;
    };
    const classes = EFFECT_CLASSES.join(' | ');

    const validated = await cli(dir, 'validate', 'tools.yaml');
    expect(validated.code).toBe(2);
    expect(validated.stdout).toContain(`tools.yaml:${lineOf('find_order')}: tools.0.effect: choose an effect class for find_order: ${classes}`);
    expect(validated.stdout).toContain(`tools.yaml:${lineOf('update_shipment')}: tools.1.effect: choose an effect class for update_shipment: ${classes}`);
    expect(validated.stdout).toContain(`tools.yaml:${lineOf('refund_order')}: tools.2.effect: choose an effect class for refund_order: ${classes}`);

    const run = await cli(dir, 'run', 'suite.yaml');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`tools.yaml:${lineOf('find_order')}: tools.0.effect: choose an effect class for find_order`);

    writeFileSync(join(dir, 'tools.yaml'), text.replace('effect: unknown', 'effect: read').replace('effect: unknown', 'effect: write-reversible').replace('effect: unknown', 'effect: write-irreversible'));
    expect((await cli(dir, 'validate', 'tools.yaml')).code).toBe(0);

    // A misspelt class is offered the four classes, never `unknown`.
    writeFileSync(join(dir, 'tools.yaml'), text.replace('effect: unknown', 'effect: reed'));
    const misspelt = await cli(dir, 'validate', 'tools.yaml');
    expect(misspelt.code).toBe(2);
    expect(misspelt.stdout).toContain(`tools.yaml:${lineOf('find_order')}: tools.0.effect: Invalid option: expected one of ${EFFECT_CLASSES.map((c) => `"${c}"`).join('|')}\n`);
    // Checked with the suite that uses it: listed and counted once, under the catalog.
    const whole = await cli(dir, 'validate', '.');
    expect(whole.code).toBe(2);
    expect(whole.stdout.split(`tools.yaml:${lineOf('find_order')}: tools.0.effect:`)).toHaveLength(2);
    expect(whole.stdout).toMatch(/FAIL suite\.yaml \(suite\)\n {5}\(and \d+ problem\(s\) of tools\.yaml, listed under it\)\n/);
    // Every problem counted once: the total is the number of problem lines printed.
    const listed = whole.stdout.split('\n').filter((l) => /^ {5}\S/.test(l) && !l.includes('listed under it')).length;
    expect(whole.stdout).toContain(`, ${listed} problem(s)`);
  });

  it('refuses a trace file with a bad line, at its line, and writes nothing', async () => {
    writeFileSync(join(dir, 'bad.jsonl'), `${readFileSync(fixture, 'utf8')}{"schema":"shadowgate.trace/v1","id":"x"}\n`);
    const { code, stderr } = await cli(dir, 'init', '--from', 'bad.jsonl');
    expect(code).toBe(2);
    expect(stderr).toMatch(/bad\.jsonl:4: /);
    expect(existsSync(join(dir, 'tools.yaml'))).toBe(false);
  });

  it('refuses a trace file that is missing or a folder, exit 2', async () => {
    mkdirSync(join(dir, 'folder.jsonl'));
    for (const from of ['missing.jsonl', 'folder.jsonl']) {
      const { code, stderr } = await cli(dir, 'init', '--from', from);
      expect({ code, first: stderr.split('\n')[0] }).toEqual({ code: 2, first: `error: no trace file ${join(dir, from)}` });
    }
  });
});
