/*
 * What a new user asked to see in the output (issue 16, item 6): each test runs the CLI on a
 * copy of the bundled example and reads the terminal, report.md, report.html and the JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pct } from '../../src/format.js';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

const read = (file: string) => readFileSync(join(dir, file), 'utf8');
const readJson = (file: string) => JSON.parse(read(file));

/** A copy of a bundled suite in another phase, with extra YAML appended. */
function suiteIn(phase: string, name: string, extra = '', from = 'refund-triage.yaml'): string {
  writeFileSync(join(dir, 'suites', name), `${read(join('suites', from)).replace('phase: shadow', `phase: ${phase}`)}\n${extra}`);
  return `suites/${name}`;
}

describe('a suggest, auto-with-review or auto run leads with its phase figures', () => {
  const cases = [
    { phase: 'suggest', extra: '', from: 'refund-triage.yaml', figures: (p: Phase) => [`acceptance ${pct(p.suggest!.acceptanceRate.rate)}`, `override rate ${pct(p.suggest!.overrideRate.rate)}`] },
    {
      phase: 'auto-with-review',
      extra: 'review: { sampleRate: 0.2, seed: 7 }\n',
      from: 'refund-triage-regression.yaml',
      figures: (p: Phase) => [`sample error rate ${pct(p.autoWithReview!.sampleErrorRate.rate)}`, `rollback frequency ${pct(p.autoWithReview!.rollbackFrequency.rate)}`],
    },
    { phase: 'auto', extra: 'sla: { latencyMs: 1000 }\n', from: 'refund-triage.yaml', figures: (p: Phase) => [`SLA adherence ${pct(p.auto!.slaAdherence.rate)}`, 'cost trend n/a (needs --baseline)'] },
  ];
  it.each(cases)('$phase: terminal, report.md and report.html show its headline figures before agreement', async ({ phase, extra, from, figures }) => {
    const suite = suiteIn(phase, `${phase}.yaml`, extra, from);
    const { stdout } = await cli(dir, 'run', suite, '--json', `out/${phase}.json`, '--report', `reports/${phase}`, '--db', `db/${phase}.db`);
    const [first, second] = figures(readJson(`out/${phase}.json`).metrics.phase);
    const md = read(`reports/${phase}/report.md`);
    const html = read(`reports/${phase}/report.html`);
    // The headline phrase on the Markdown's first line, before agreement; the phase section before the checks and metrics.
    const firstLine = md.split('\n')[2]!;
    expect(firstLine.indexOf(first!)).toBeGreaterThan(-1);
    expect(firstLine.indexOf(second!)).toBeGreaterThan(firstLine.indexOf(first!));
    expect(firstLine.indexOf(second!)).toBeLessThan(firstLine.indexOf('agreement'));
    expect(md.indexOf(`### The ${phase} phase`)).toBeGreaterThan(-1);
    expect(md.indexOf(`### The ${phase} phase`)).toBeLessThan(md.indexOf('### Metrics'));
    // HTML: the phase table comes before the gate checks and the summary with agreement.
    expect(html.indexOf(`<h2>The ${phase} phase</h2>`)).toBeGreaterThan(-1);
    expect(html.indexOf(`<h2>The ${phase} phase</h2>`)).toBeLessThan(html.indexOf('<h2>Gate checks</h2>'));
    // Terminal: the phase rows are the first rows of the summary, above the trace counts and agreement.
    const rows = stdout.slice(stdout.indexOf(' · run '));
    const label = { suggest: '  suggest ', 'auto-with-review': '  review sample ', auto: '  auto ' }[phase]!;
    expect(rows.indexOf(label)).toBeGreaterThan(-1);
    expect(rows.indexOf(label)).toBeLessThan(rows.indexOf('  agreement '));
  });

  it('a shadow run has no phase section and begins with the traces', async () => {
    const { stdout } = await cli(dir, 'run', 'suites/refund-triage.yaml', '--report', 'reports/shadow', '--db', 'db/shadow.db');
    expect(stdout).toMatch(/run \S+\n {2}traces {13}480/);
    expect(read('reports/shadow/report.md')).not.toContain('### The shadow phase');
    expect(read('reports/shadow/report.md').split('\n')[2]).toMatch(/· shadow phase · 480 traces · agreement /);
    expect(read('reports/shadow/report.html')).not.toContain('<h2>The shadow phase</h2>');
  });
});

it('`show <run> <trace>` prints the input the candidate saw, above the steps', async () => {
  await cli(dir, 'run', 'suites/refund-triage.yaml', '--json', 'out/show.json', '--db', 'db/show.db');
  const run = readJson('out/show.json');
  const { traceId, source } = run.results[0];
  const trace = JSON.parse(read(source.file).split('\n')[source.line - 1]!);
  const { code, stdout } = await cli(dir, 'show', run.runId, traceId, '--db', 'db/show.db');
  expect(code).toBe(0);
  const input = JSON.stringify(trace.input, null, 2).split('\n').map((l) => `    ${l}`).join('\n');
  expect(stdout).toContain(`  input (what the candidate saw):\n${input}\n`);
  const firstCall = trace.steps.find((s: { type: string }) => s.type === 'tool').name;
  expect(stdout.indexOf(`  ${firstCall} `)).toBeGreaterThan(stdout.indexOf(input));
});

describe('a shard says it is one', () => {
  it('in the terminal, report.md and report.html: shard i/n, split by case id, and the traces it holds; the merged run does not', async () => {
    const shards = [];
    for (const i of [1, 2]) {
      const { stdout } = await cli(dir, 'run', 'suites/refund-triage.yaml', '--shard', `${i}/2`, '--json', `out/shard-${i}.json`, '--report', `reports/shard-${i}`, '--db', 'db/shard.db');
      shards.push({ stdout, run: readJson(`out/shard-${i}.json`) });
    }
    for (const [i, { stdout, run }] of shards.entries()) {
      // The split is by case id: the shards' cases do not overlap, and each holds every result of its cases.
      const held = run.results.length;
      const line = `shard ${i + 1}/2 (split by case id), holding ${held} traces of the suite`;
      expect(stdout.split('\n')[2]).toContain(`  ${line}`);
      expect(read(`reports/shard-${i + 1}/report.md`)).toContain(`**This is ${line}`);
      expect(read(`reports/shard-${i + 1}/report.html`)).toContain(`<strong>This is ${line}`);
    }
    const cases = shards.map(({ run }) => new Set(run.results.map((r: { caseId: string }) => r.caseId)));
    expect([...cases[0]!].filter((c) => cases[1]!.has(c))).toEqual([]);
    expect(shards[0]!.run.results.length + shards[1]!.run.results.length).toBe(480);
    const merged = await cli(dir, 'merge', 'out/shard-1.json', 'out/shard-2.json', '--report', 'reports/merged');
    expect(merged.stdout).not.toContain('shard 1/2');
    expect(read('reports/merged/report.md')).not.toContain('This is shard');
  });

  it('`--shard` help says the split is by case id', async () => {
    const { stdout } = await cli(dir, 'run', '--help');
    expect(stdout.replace(/\s+/g, ' ')).toContain('a deterministic split by case id');
  });
});

describe('--junit gate | traces', () => {
  it('--junit gate: junit.xml in --report holds one testcase per gate check, a failing check a failure with its reason', async () => {
    const { code } = await cli(dir, 'gate', 'suites/refund-triage-regression.yaml', '--junit', 'gate', '--report', 'reports/junit-gate', '--json', 'out/junit-gate.json', '--db', 'db/junit.db');
    expect(code).toBe(1);
    const { gate } = readJson('out/junit-gate.json');
    const xml = read('reports/junit-gate/junit.xml');
    expect(xml.match(/<testcase /g)).toHaveLength(gate.checks.length);
    const failing = gate.checks.filter((c: { status: string }) => c.status === 'fail');
    expect(failing.length).toBeGreaterThan(0);
    expect(xml.match(/<failure /g)).toHaveLength(failing.length);
    for (const c of gate.checks) expect(xml).toContain(`name="${c.name}"`);
  });

  it('--junit gate:<file> writes the file without --report; a passing gate has no failure', async () => {
    const { code, stdout } = await cli(dir, 'gate', 'suites/refund-triage.yaml', '--junit', 'gate:out/gate.xml', '--db', 'db/junit.db');
    expect(code).toBe(0);
    expect(stdout).toContain('junit (gate): out/gate.xml');
    const xml = read('out/gate.xml');
    expect(xml).toMatch(/<testcase classname="refund-triage.gate" name="agreement" time="0"\/>/);
    expect(xml).not.toMatch(/<(failure|error)\b/);
  });

  it('--junit traces, and --report without --junit, keep a testcase per trace; --junit gate with nowhere to write exits 2', async () => {
    await cli(dir, 'run', 'suites/refund-triage.yaml', '--junit', 'traces', '--report', 'reports/junit-traces', '--db', 'db/junit.db');
    expect(read('reports/junit-traces/junit.xml').match(/<testcase /g)).toHaveLength(480);
    const bad = await cli(dir, 'gate', 'suites/refund-triage.yaml', '--junit', 'gate', '--db', 'db/junit.db');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --junit gate needs a place for junit.xml\nhint: add --report <dir> (junit.xml goes there) or name a file: --junit gate:<file>');
    expect((await cli(dir, 'gate', 'suites/refund-triage.yaml', '--junit', 'checks', '--db', 'db/junit.db')).code).toBe(2);
  });
});

describe('--trials: each disagreeing trace once with its trial count, and whole counts everywhere', () => {
  it('lists T ×n of k trials, and says 8/15 trials over 5 cases where the shares sum to 2.67', async () => {
    // Made-up: 5 traces whose human decision is "yes"; the candidate says "yes" on the first `agree` trials of each.
    const agree = [3, 2, 2, 1, 0];
    mkdirSync(join(dir, 'trials'));
    const traces = agree.map((n, i) => JSON.stringify({ schema: 'shadowgate.trace/v1', id: `T-${i}`, workflow: 'w', input: { agree: n }, steps: [], human: { decision: 'yes' } }));
    writeFileSync(join(dir, 'trials/traces.jsonl'), `${traces.join('\n')}\n`);
    writeFileSync(join(dir, 'trials/tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
    writeFileSync(join(dir, 'trials/by-trial.mjs'), 'export async function run(input, ctx) { return { decision: ctx.trace.trial < input.agree ? "yes" : "no" }; }\n');
    writeFileSync(join(dir, 'trials/suite.yaml'), 'name: trials\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: by-trial.mjs }\ngate: { agreement: { min: 0.9, bound: point } }\n');
    const { stdout } = await cli(dir, 'run', 'trials/suite.yaml', '--trials', '3', '--json', 'out/trials.json', '--report', 'reports/trials', '--db', 'db/trials.db');
    const { metrics } = readJson('out/trials.json');
    const agreed = agree.reduce((a, b) => a + b, 0);
    expect(metrics.agreement).toMatchObject({ n: 5, trials: { successes: agreed, n: 15 } });
    expect(Number.isInteger(metrics.agreement.successes)).toBe(false);
    const whole = `${agreed}/15 trials over 5 cases`;
    const outputs = { terminal: stdout, md: read('reports/trials/report.md'), html: read('reports/trials/report.html') };
    for (const [name, text] of Object.entries(outputs)) {
      // No fractional count (2.67/5, 2.6666666666666665/5) anywhere; the failing gate check says the whole counts in each.
      expect(text, name).not.toMatch(/\d\.\d+\/\d/);
      expect(text, name).toContain(whole);
    }
    // Each disagreeing trace once, with how many of its trials disagree.
    const listed = stdout.slice(stdout.indexOf('first traces that disagree'));
    for (const [i, n] of agree.entries()) {
      if (n === 3) expect(listed).not.toContain(`T-${i} `);
      else expect(listed.match(new RegExp(`T-${i} `, 'g'))).toEqual([`T-${i} `]);
    }
    expect(listed).toContain(`T-1 ×1 of 3 trials (trials/traces.jsonl:2)`);
    expect(listed).toContain(`T-4 ×3 of 3 trials (trials/traces.jsonl:5)`);
    const shown = await cli(dir, 'show', readJson('out/trials.json').runId, '--db', 'db/trials.db');
    expect(shown.stdout).toContain('  T-3 ×2 of 3 trials  completed, disagrees\n');
    expect(shown.stdout).toContain('  4 trace(s) worth a look');
    // report.html: each trace one entry, with its trial count; the trials' steps inside that entry.
    const ids = [...outputs.html.matchAll(/<span class="tid">([^<]*)<\/span>/g)].map((m) => m[1]);
    expect(ids).toEqual(['T-1 ×1 of 3 trials', 'T-2 ×1 of 3 trials', 'T-3 ×2 of 3 trials', 'T-4 ×3 of 3 trials', 'T-0 (3 trials)']);
    expect(outputs.html).not.toMatch(/\(trial \d\)/);
    expect(outputs.html.match(/<h3 class="trial">trial \d: /g)).toHaveLength(15);
    // The headlines say the traces and the trials, the same way in each output.
    expect(outputs.md).toContain('shadow phase · 5 traces × 3 trials · ');
    expect(outputs.md).not.toContain('15 traces');
    expect(stdout).toMatch(/\n  traces +5 traces × 3 trials \(15 runs\): 15 completed/);
    expect(outputs.html).toContain('<tr><th>traces</th><td>5 traces × 3 trials (15 runs): 15 completed');
  });
});

it('a decision that is not an object, or lacks a field compare.decision.fields names, is a located warning in the summary and the results', async () => {
  // Made-up: three traces; the candidate answers a bare string on the first two and leaves out the amount on the third.
  mkdirSync(join(dir, 'shapes'));
  const decisions = [{ action: 'deny' }, { action: 'refund', amount: 5 }, { action: 'refund', amount: 7 }];
  const traces = decisions.map((d, i) => JSON.stringify({ schema: 'shadowgate.trace/v1', id: `S-${i}`, workflow: 'w', input: { i }, steps: [], human: { decision: d } }));
  writeFileSync(join(dir, 'shapes/traces.jsonl'), `${traces.join('\n')}\n`);
  writeFileSync(join(dir, 'shapes/tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
  writeFileSync(join(dir, 'shapes/agent.mjs'), 'export async function run(input) { return { decision: input.i < 2 ? "refund" : { action: "refund" } }; }\n');
  writeFileSync(join(dir, 'shapes/suite.yaml'), 'name: shapes\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: agent.mjs }\ncompare: { decision: { fields: [action, amount] } }\n');
  const { stdout } = await cli(dir, 'run', 'shapes/suite.yaml', '--json', 'out/shapes.json', '--db', 'db/shapes.db');
  const notObject = `the candidate's decision on S-0 (shapes/traces.jsonl:1) is not an object ("refund"): compare.decision.fields ["action", "amount"] cannot pick fields from it, so it is compared whole; 2 traces alike`;
  const noAmount = `the candidate's decision on S-2 (shapes/traces.jsonl:3) has no field "amount", which the reference's has and compare.decision.fields names: it disagrees by that alone ({"action":"refund"})`;
  expect(readJson('out/shapes.json').warnings).toEqual([notObject, noAmount]);
  expect(stdout).toContain(`  warning: ${notObject}\n`);
  expect(stdout).toContain(`  warning: ${noAmount}\n`);
});

it('names the same first trace and lists the same traces in the same order at --concurrency 1 and 8: file order, not completion order', async () => {
  // Made-up: 12 traces; the candidate answers a bare string (not an object: a decision-shape warning, and a
  // disagreement on every trace), later lines sooner, so that at concurrency 8 results finish out of file order.
  mkdirSync(join(dir, 'order'));
  const traces = Array.from({ length: 12 }, (_, i) => JSON.stringify({ schema: 'shadowgate.trace/v1', id: `W-${i + 1}`, workflow: 'w', input: { i }, steps: [], human: { decision: { action: 'refund' } } }));
  writeFileSync(join(dir, 'order/traces.jsonl'), `${traces.join('\n')}\n`);
  writeFileSync(join(dir, 'order/tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
  writeFileSync(join(dir, 'order/agent.mjs'), 'export async function run(input) { await new Promise((r) => setTimeout(r, (12 - input.i) * 40)); return { decision: "refund" }; }\n');
  writeFileSync(join(dir, 'order/suite.yaml'), 'name: order\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: agent.mjs }\ncompare: { decision: { fields: [action] } }\n');
  const inFile = traces.map((_, i) => `W-${i + 1}`);
  const seen: Record<'stored' | 'warnings' | 'terminal' | 'show' | 'html', string[]>[] = [];
  for (const c of ['1', '8']) {
    const { stdout } = await cli(dir, 'run', 'order/suite.yaml', '--concurrency', c, '--json', `out/order-${c}.json`, '--report', `reports/order-${c}`, '--db', `db/order-${c}.db`);
    const json = readJson(`out/order-${c}.json`);
    const listed = stdout.slice(stdout.indexOf('first traces that disagree'), stdout.indexOf('\n\n', stdout.indexOf('first traces that disagree')));
    const shown = (await cli(dir, 'show', json.runId, '--db', `db/order-${c}.db`)).stdout;
    const html = read(`reports/order-${c}/report.html`);
    seen.push({
      stored: json.results.map((r: { traceId: string }) => r.traceId),
      warnings: json.warnings,
      terminal: [...listed.matchAll(/^ {4}(W-\d+) /gm)].map((m) => m[1]!),
      show: [...shown.matchAll(/^ {2}(W-\d+) /gm)].map((m) => m[1]!),
      html: [...html.matchAll(/<span class="tid">([^<]*)<\/span>/g)].map((m) => m[1]!),
    });
  }
  const [one, eight] = seen as [(typeof seen)[number], (typeof seen)[number]];
  // The run at 8 did finish (and store) its results out of file order: what follows is not by luck.
  expect(one.stored).toEqual(inFile);
  expect(eight.stored).not.toEqual(inFile);
  expect(one.warnings[0]).toMatch(/^the candidate's decision on W-1 \(order\/traces\.jsonl:1\) is not an object \("refund"\).*; 12 traces alike$/);
  expect(eight.warnings).toEqual(one.warnings);
  expect(one.terminal).toEqual(inFile.slice(0, 5));
  expect(eight.terminal).toEqual(one.terminal);
  expect(one.show).toEqual(inFile);
  expect(eight.show).toEqual(one.show);
  expect(one.html).toEqual(inFile);
  expect(eight.html).toEqual(one.html);
});

interface Rate {
  rate: number | null;
}
interface Phase {
  suggest?: { acceptanceRate: Rate; overrideRate: Rate };
  autoWithReview?: { sampleErrorRate: Rate; rollbackFrequency: Rate };
  auto?: { slaAdherence: Rate };
}
