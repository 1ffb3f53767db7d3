import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, type Issue } from '../errors.js';
import { aTrace } from '../testing/builders.js';
import { loadSuite, loadToolCatalog } from './load.js';

let dir: string;
let cwd: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-suite-'));
  cwd = process.cwd();
  // A layout like the repo's: suites/, traces/, fixtures/ side by side.
  await mkdir(join(dir, 'suites'));
  await mkdir(join(dir, 'traces', 'refunds'), { recursive: true });
  await mkdir(join(dir, 'fixtures'));
  await writeFile(join(dir, 'traces', 'refunds', 'w1.jsonl'), `${JSON.stringify(aTrace('t1').build())}\n`);
  await writeFile(join(dir, 'traces', 'refunds', 'w2.jsonl'), `${JSON.stringify(aTrace('t2').build())}\n`);
  await writeFile(join(dir, 'fixtures', 'tools.yaml'), CATALOG);
  await writeFile(join(dir, 'fixtures', 'agent.mjs'), 'export async function run() { return { decision: "deny" }; }\n');
});
afterEach(async () => {
  process.chdir(cwd);
  await rm(dir, { recursive: true, force: true });
});

const CATALOG = `tools:
  - name: get_order
    effect: read
  - name: issue_refund
    effect: write-irreversible
    ack: { status: ok }
`;

async function writeSuite(text: string, name = 'suite.yaml'): Promise<string> {
  const file = join(dir, 'suites', name);
  await writeFile(file, text);
  return file;
}

async function configIssues(promise: Promise<unknown>): Promise<Issue[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues;
}

const moduleSuite = (extra = '') => `name: refunds
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: module
  module: ../fixtures/agent.mjs
${extra}`;

describe('loadSuite', () => {
  it('resolves paths relative to the suite file and applies defaults', async () => {
    const file = await writeSuite(moduleSuite());
    process.chdir(join(dir, 'fixtures')); // the cwd must not matter
    const suite = await loadSuite(file);
    expect({
      file: suite.file,
      traceFiles: suite.traceFiles,
      catalogFile: suite.catalogFile,
      candidate: suite.candidate,
      candidateLabel: suite.candidateLabel,
      phase: suite.phase,
      reference: suite.reference,
      trials: suite.trials,
      mocks: suite.mocks,
      compare: suite.compare,
      tools: suite.catalog.tools.map((t) => t.name),
    }).toEqual({
      file,
      traceFiles: [join(dir, 'traces', 'refunds', 'w1.jsonl'), join(dir, 'traces', 'refunds', 'w2.jsonl')],
      catalogFile: join(dir, 'fixtures', 'tools.yaml'),
      candidate: { kind: 'module', module: join(dir, 'fixtures', 'agent.mjs') },
      candidateLabel: 'module:agent.mjs',
      phase: 'shadow',
      reference: 'human',
      trials: 1,
      mocks: { match: 'exact', ignoreArgs: [] },
      compare: { decision: { numericTolerance: 0 }, effects: { ignoreArgs: [] } },
      tools: ['get_order', 'issue_refund'],
    });
    expect(suite.suiteHash).toMatch(/^[0-9a-f]{64}$/);
    expect(suite.candidateHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the file, line and key path of a misspelled key', async () => {
    const file = await writeSuite(`name: refunds
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: module
  module: ../fixtures/agent.mjs
gate:
  errorRate: { max: 0.1 }
  agreemnt: { min: 0.9 }
`);
    expect(await configIssues(loadSuite(file))).toEqual([{ file, line: 9, path: 'gate.agreemnt', message: 'unknown key' }]);
  });

  it('refuses a check that no run could fail, at its line, pointing at dryRun', async () => {
    const file = await writeSuite(`name: refunds
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: module
  module: ../fixtures/agent.mjs
gate:
  agreement: { min: 0, bound: point }
  errorRate: { max: 1 }
  toolCallDrift: { maxJsd: 1 }
  completionRate: { min: 0.5 }
`);
    const issues = await configIssues(loadSuite(file));
    expect(issues.map(({ line, path }) => [line, path])).toEqual([[8, 'gate.agreement.min'], [9, 'gate.errorRate.max'], [10, 'gate.toolCallDrift.maxJsd']]);
    expect(issues[0]!.message).toBe('must be above 0: a min of 0 passes every run, and a check that cannot fail gates nothing (to measure a figure without gating on it: dryRun: true)');
    expect(issues[1]!.message).toMatch(/^must be below 1: a max of 1 passes every run/);
    // As a dry run it is measured and gates nothing: allowed.
    const dry = await writeSuite(moduleSuite().replace('candidate:', 'gate:\n  agreement: { min: 0, dryRun: true }\n  errorRate: { max: 0.1 }\ncandidate:'), 'dry-zero.yaml');
    expect((await loadSuite(dry)).gate.agreement).toMatchObject({ min: 0, dryRun: true });
  });

  it('refuses a recorded candidate made of the suite\'s own traces against the recorded reference: it would agree with itself', async () => {
    const same = await writeSuite(`name: self
reference: recorded
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: recorded
  traces: ["../traces/refunds/w2.jsonl"]
`);
    const issues = await configIssues(loadSuite(same));
    expect(issues.map(({ line, path, message }) => [line, path, message])).toEqual([
      [7, 'candidate.traces', "../traces/refunds/w2.jsonl is among the suite's own traces, and the reference is the recorded outcome: the candidate would be compared with itself (use reference: human, or another set of traces)"],
    ]);
    // Against the human decisions it is the recorded agent's own measure: allowed.
    expect((await loadSuite(await writeSuite((await import('node:fs')).readFileSync(same, 'utf8').replace('reference: recorded\n', ''), 'human.yaml'))).candidate.kind).toBe('recorded');
  });

  it("takes as a command's identity what it runs: a Python program's local imports, a -m module, a folder it names, a file named in a shell line", async () => {
    for (const sub of ['pkg/lib', 'lib', 'py/sub', 'node-app']) await mkdir(join(dir, 'agent', sub), { recursive: true });
    const files: Record<string, string> = {
      'agent/main.py': 'import os; import py.sub.mod as m\nfrom rules import decide\nfrom lib import (\n  helpers,\n)\n',
      'agent/rules.py': 'def decide(): return "deny"\n',
      'agent/lib/__init__.py': '',
      'agent/lib/helpers.py': 'X = 1\n',
      'agent/py/__init__.py': '',
      'agent/py/sub/__init__.py': '',
      'agent/py/sub/__main__.py': 'print(1)\n',
      'agent/py/sub/mod.py': 'from ..shared import Y\nfrom .. import other\n',
      'agent/py/shared.py': 'Y = 1\n',
      'agent/py/other.py': 'Z = 1\n',
      'agent/pkg/index.js': 'console.log(1);\n',
      'agent/pkg/lib/more.js': 'module.exports = 1;\n',
      'agent/node-app/package.json': '{"main": "start.js"}',
      'agent/node-app/start.js': 'console.log(1);\n',
      'agent/index.js': 'console.log(1);\n',
      'agent/rules.yaml': 'limit: 500\n',
    };
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    const suite = (command: string) => writeSuite(`name: cmd
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: command
  command: ${command}
  cwd: ../agent
`);
    const hash = async (command: string) => (await loadSuite(await suite(command))).candidateHash;
    for (const [command, changed] of [
      ['[python3, main.py]', 'agent/rules.py'],
      ['[python3, main.py]', 'agent/lib/helpers.py'],
      ['[python3, -m, main]', 'agent/main.py'],
      ['[node, pkg]', 'agent/pkg/lib/more.js'],
      ['[sh, -c, "node pkg/index.js"]', 'agent/pkg/index.js'],
      ['[python3, main.py]', 'agent/py/__init__.py'],
      ['[python3, main.py]', 'agent/py/shared.py'],
      ['[python3, main.py]', 'agent/py/other.py'],
      ['[python3, -m, py.sub]', 'agent/py/sub/__main__.py'],
      ['[node, .]', 'agent/index.js'],
      ['[node, node-app]', 'agent/node-app/start.js'],
      ['[python3, main.py, --rules=rules.yaml]', 'agent/rules.yaml'],
    ] as const) {
      const before = await hash(command);
      await writeFile(join(dir, changed), `${files[changed]}# changed\n`);
      expect(await hash(command), `${command} after ${changed} changed`).not.toBe(before);
      await writeFile(join(dir, changed), files[changed]!);
      expect(await hash(command)).toBe(before);
    }
    // A folder outside the command's own is not walked (`cd /`), and Python's byte-code caches are not the program.
    expect(await hash('[sh, -c, "cd / && python3 main.py"]')).toMatch(/^[0-9a-f]{64}$/);
    const before = await hash('[node, pkg]');
    await mkdir(join(dir, 'agent/pkg/__pycache__'));
    await writeFile(join(dir, 'agent/pkg/__pycache__/x.pyc'), 'cache');
    expect(await hash('[node, pkg]')).toBe(before);
  });

  it('reports a YAML syntax error at its line and column, as a config error', async () => {
    const file = await writeSuite(moduleSuite('name: refunds-again\n'));
    const error = await loadSuite(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ file, line: 7, column: 1, message: 'invalid YAML: Map keys must be unique' }]);
    expect((error as ConfigError).message).toBe(`invalid configuration:\n  ${file}:7:1: invalid YAML: Map keys must be unique`);
  });

  it('reports several problems in one ConfigError, each at its line', async () => {
    const file = await writeSuite(`name: refunds
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: module
  modul: ../fixtures/agent.mjs
trials: 0
gate:
  agreemnt: { min: 0.9 }
`);
    const issues = await configIssues(loadSuite(file));
    expect(issues.map(({ message: _m, ...where }) => where)).toEqual(
      expect.arrayContaining([
        { file, line: 6, path: 'candidate.modul' },
        { file, line: 7, path: 'trials' },
        { file, line: 9, path: 'gate.agreemnt' },
      ]),
    );
    // `module` is missing as well as `modul` being unknown.
    expect(issues.map((i) => i.path).sort()).toEqual(['candidate.modul', 'candidate.module', 'gate.agreemnt', 'trials']);
  });

  it('reports a missing module, a missing catalog and traces that match nothing, all at once', async () => {
    const file = await writeSuite(`name: refunds
traces: ["../traces/nothing-here/*.jsonl"]
tools: ../fixtures/no-such-tools.yaml
candidate:
  kind: module
  module: ../fixtures/no-such-agent.mjs
`);
    const issues = await configIssues(loadSuite(file));
    expect(issues.map(({ message: _m, ...where }) => where)).toEqual([
      { file, line: 2, path: 'traces.0' },
      { file, line: 3, path: 'tools' },
      { file, line: 6, path: 'candidate.module' },
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      `no file matches "../traces/nothing-here/*.jsonl" (relative to ${join(dir, 'suites')})`,
      `tool catalog not found: ${join(dir, 'fixtures', 'no-such-tools.yaml')}`,
      `module not found: ${join(dir, 'fixtures', 'no-such-agent.mjs')}`,
    ]);
  });

  it('does not resolve trace globs against the cwd', async () => {
    // From the temp root, `traces/refunds/*.jsonl` would match relative to the cwd but not to the suite file.
    const file = await writeSuite(moduleSuite().replace('../traces/refunds/*.jsonl', 'traces/refunds/*.jsonl'));
    process.chdir(dir);
    expect((await configIssues(loadSuite(file))).map((i) => i.path)).toEqual(['traces.0']);
  });

  it('refuses a trace file it names that is not there, even when its other patterns match (missing evidence, not a smaller suite)', async () => {
    const file = await writeSuite(`name: refunds
traces:
  - ../traces/refunds/w1.jsonl
  - ../traces/refunds/w3.jsonl
  - ../traces/refunds/w2.jsonl
tools: ../fixtures/tools.yaml
candidate: { kind: recorded, traces: ["../traces/refunds/*.jsonl", ../traces/other/*.jsonl] }
`);
    const issues = await configIssues(loadSuite(file));
    expect(issues).toEqual([
      { file, line: 4, path: 'traces.1', message: `no file matches "../traces/refunds/w3.jsonl" (relative to ${join(dir, 'suites')})` },
      { file, line: 7, path: 'candidate.traces.1', message: `no file matches "../traces/other/*.jsonl" (relative to ${join(dir, 'suites')})` },
    ]);
  });

  it('refuses a trace file that braces name and that is not there, and takes braces around wildcards as one search', async () => {
    const file = await writeSuite(`name: refunds
traces:
  - ../traces/refunds/{w1,w9}.jsonl
  - ../traces/refunds/w{1..2}.jsonl
  - ../traces/refunds/*.{jsonl,json}
  - ../traces/refunds/w{1..3..2}.jsonl
  - ../traces/refunds/w{+1..2}.jsonl
tools: ../fixtures/tools.yaml
candidate: { kind: recorded, traces: ["../traces/refunds/{w2,w3}.jsonl"] }
`);
    const issues = await configIssues(loadSuite(file));
    expect(issues).toEqual([
      { file, line: 3, path: 'traces.0', message: `no file matches "../traces/refunds/w9.jsonl", which "../traces/refunds/{w1,w9}.jsonl" names (relative to ${join(dir, 'suites')})` },
      { file, line: 6, path: 'traces.3', message: `no file matches "../traces/refunds/w3.jsonl", which "../traces/refunds/w{1..3..2}.jsonl" names (relative to ${join(dir, 'suites')})` },
      { file, line: 7, path: 'traces.4', message: expect.stringMatching(/^"\.\.\/traces\/refunds\/w\{\+1\.\.2\}\.jsonl" cannot say which files it names: the range \{\+1\.\.2\} is not one shadowgate spells out/) as unknown as string },
      { file, line: 9, path: 'candidate.traces.0', message: `no file matches "../traces/refunds/w3.jsonl", which "../traces/refunds/{w2,w3}.jsonl" names (relative to ${join(dir, 'suites')})` },
    ]);
    const whole = await writeSuite(moduleSuite().replace('["../traces/refunds/*.jsonl"]', '["../traces/refunds/{w1,w2}.jsonl", "../traces/refunds/*.{jsonl,json}"]'), 'whole.yaml');
    expect((await loadSuite(whole)).traceFiles).toEqual([join(dir, 'traces', 'refunds', 'w1.jsonl'), join(dir, 'traces', 'refunds', 'w2.jsonl')]);
  });

  it('reads the files braces name as it checks them: a list of paths, and a stepped range whole', async () => {
    await mkdir(join(dir, 'traces', 'stepped'));
    for (const n of [1, 2, 3]) await writeFile(join(dir, 'traces', 'stepped', `s${n}.jsonl`), '');
    const paths = await writeSuite(moduleSuite().replace('["../traces/refunds/*.jsonl"]', '["{../traces/refunds/w1,../traces/stepped/s2}.jsonl", "../traces/stepped/s{1..3..2}.jsonl"]'), 'paths.yaml');
    expect((await loadSuite(paths)).traceFiles).toEqual([
      join(dir, 'traces', 'refunds', 'w1.jsonl'),
      join(dir, 'traces', 'stepped', 's1.jsonl'),
      join(dir, 'traces', 'stepped', 's2.jsonl'),
      join(dir, 'traces', 'stepped', 's3.jsonl'),
    ]);
    // A negated brace list takes away each file it names.
    const less = await writeSuite(moduleSuite().replace('["../traces/refunds/*.jsonl"]', '["../traces/stepped/*.jsonl", "!../traces/stepped/{s1,s3}.jsonl"]'), 'less.yaml');
    expect((await loadSuite(less)).traceFiles).toEqual([join(dir, 'traces', 'stepped', 's2.jsonl')]);
  });

  it('takes a negated pattern as removing files, and refuses patterns that leave none', async () => {
    const some = await writeSuite(moduleSuite().replace('["../traces/refunds/*.jsonl"]', '["../traces/refunds/*.jsonl", "!../traces/refunds/w2.jsonl"]'), 'some.yaml');
    expect((await loadSuite(some)).traceFiles).toEqual([join(dir, 'traces', 'refunds', 'w1.jsonl')]);
    const none = await writeSuite(moduleSuite().replace('["../traces/refunds/*.jsonl"]', '["../traces/refunds/*.jsonl", "!../traces/refunds/*"]'), 'none.yaml');
    const issues = await configIssues(loadSuite(none));
    expect(issues.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: 'traces', message: `no file matches ["../traces/refunds/*.jsonl","!../traces/refunds/*"] (relative to ${join(dir, 'suites')})` },
    ]);
  });

  it('refuses a file both named and taken away by a negated pattern', async () => {
    const both = await writeSuite(moduleSuite().replace('["../traces/refunds/*.jsonl"]', '["../traces/refunds/*.jsonl", "!../traces/refunds/w2.jsonl", "../traces/refunds/w2.jsonl"]'), 'both.yaml');
    expect((await configIssues(loadSuite(both))).map(({ path, message }) => ({ path, message }))).toEqual([
      { path: 'traces.2', message: `"../traces/refunds/w2.jsonl" is named here and taken away by a negated pattern: name it, or leave it out, not both (relative to ${join(dir, 'suites')})` },
    ]);
  });

  it('reports an unknown model provider on candidate.model', async () => {
    const file = await writeSuite(`name: refunds
traces: ../traces/refunds/*.jsonl
tools: ../fixtures/tools.yaml
candidate:
  kind: tool-loop
  model: mistral:large
`);
    expect(await configIssues(loadSuite(file))).toEqual([
      { file, line: 6, path: 'candidate.model', message: 'unknown model provider "mistral" (available: openai, anthropic, or replay)' },
    ]);
  });

  it('accepts the replay model and labels the candidate with it', async () => {
    const file = await writeSuite(`name: refunds
traces: ../traces/refunds/*.jsonl
tools: ../fixtures/tools.yaml
candidate:
  kind: tool-loop
  model: replay
`);
    const suite = await loadSuite(file);
    expect(suite.candidate).toEqual({ kind: 'tool-loop', model: 'replay', prompt: undefined, promptVersion: undefined });
    expect(suite.candidateLabel).toBe('replay');
  });

  it('reports catalog problems with the catalog file, next to the suite problems', async () => {
    await writeFile(
      join(dir, 'fixtures', 'tools.yaml'),
      `tools:
  - name: get_order
    effect: read
  - name: get_order
    effect: write-reversible
`,
    );
    const file = await writeSuite(moduleSuite().replace('../fixtures/agent.mjs', '../fixtures/gone.mjs'));
    const issues = await configIssues(loadSuite(file));
    expect(issues.map((i) => [i.file, i.path])).toEqual([
      [join(dir, 'fixtures', 'tools.yaml'), 'tools.1.name'],
      [file, 'candidate.module'],
    ]);
  });

  it('changes the candidate hash when the module file changes, not the suite hash', async () => {
    const file = await writeSuite(moduleSuite());
    const before = await loadSuite(file);
    await writeFile(join(dir, 'fixtures', 'agent.mjs'), 'export async function run() { return { decision: "refund" }; }\n');
    const after = await loadSuite(file);
    expect(after.suiteHash).toBe(before.suiteHash);
    expect(after.candidateHash).not.toBe(before.candidateHash);
  });

  it('changes the candidate hash when a file the module imports changes, and is the same for the same files in another folder', async () => {
    await writeFile(join(dir, 'fixtures', 'agent.mjs'), "export { run } from './rules.mjs';\n");
    await writeFile(join(dir, 'fixtures', 'rules.mjs'), 'export async function run() { return { decision: "deny" }; }\n');
    const file = await writeSuite(moduleSuite());
    const before = await loadSuite(file);
    await writeFile(join(dir, 'fixtures', 'rules.mjs'), 'export async function run() { return { decision: "refund" }; }\n');
    const after = await loadSuite(file);
    expect(after.candidateHash).not.toBe(before.candidateHash);
    expect((await loadSuite(file)).candidateHash).toBe(after.candidateHash);
  });

  it("changes a command candidate's hash when a file its JavaScript program imports changes", async () => {
    await writeFile(join(dir, 'fixtures', 'cmd-agent.mjs'), "import { decide } from './cmd-rules.mjs';\n");
    await writeFile(join(dir, 'fixtures', 'cmd-rules.mjs'), 'export const decide = () => "deny";\n');
    const file = await writeSuite(`name: refunds
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: command
  command: [node, cmd-agent.mjs]
  cwd: ../fixtures
`);
    const before = await loadSuite(file);
    await writeFile(join(dir, 'fixtures', 'cmd-rules.mjs'), 'export const decide = () => "refund";\n');
    const after = await loadSuite(file);
    expect(after.candidateHash).not.toBe(before.candidateHash);
    expect((await loadSuite(file)).candidateHash).toBe(after.candidateHash);
  });

  it('changes the candidate hash of a recorded candidate when its trace files change', async () => {
    await mkdir(join(dir, 'traces', 'shadow'));
    await writeFile(join(dir, 'traces', 'shadow', 'a.jsonl'), `${JSON.stringify(aTrace('t1').build())}\n`);
    const file = await writeSuite(`name: refunds
traces: ["../traces/refunds/*.jsonl"]
tools: ../fixtures/tools.yaml
candidate:
  kind: recorded
  traces: ["../traces/shadow/*.jsonl"]
`);
    const before = await loadSuite(file);
    await writeFile(join(dir, 'traces', 'shadow', 'a.jsonl'), `${JSON.stringify(aTrace('t1').build())}\n${JSON.stringify(aTrace('t2').build())}\n`);
    const after = await loadSuite(file);
    expect(after.suiteHash).toBe(before.suiteHash);
    expect(after.candidateHash).not.toBe(before.candidateHash);
  });
});

describe('loadToolCatalog', () => {
  it('loads a valid catalog', async () => {
    expect(await loadToolCatalog(join(dir, 'fixtures', 'tools.yaml'))).toEqual({
      tools: [
        { name: 'get_order', effect: 'read' },
        { name: 'issue_refund', effect: 'write-irreversible', ack: { status: 'ok' } },
      ],
    });
  });

  it('reports a YAML syntax error of the catalog at its line and column', async () => {
    const file = join(dir, 'fixtures', 'bad.yaml');
    await writeFile(file, 'tools:\n  - name: a\n    effect: read\n    effect: write-external\n');
    expect(await configIssues(loadToolCatalog(file))).toEqual([{ file, line: 4, column: 5, message: 'invalid YAML: Map keys must be unique' }]);
  });

  it('reports each duplicate tool name', async () => {
    const file = join(dir, 'fixtures', 'dupes.yaml');
    await writeFile(
      file,
      `tools:
  - { name: get_order, effect: read }
  - { name: issue_refund, effect: write-external }
  - { name: get_order, effect: read }
  - { name: issue_refund, effect: write-external }
`,
    );
    expect(await configIssues(loadToolCatalog(file))).toEqual([
      { file, line: 4, path: 'tools.2.name', message: 'duplicate tool get_order' },
      { file, line: 5, path: 'tools.3.name', message: 'duplicate tool issue_refund' },
    ]);
  });

  it('reports a duplicate tool name next to other problems of the catalog', async () => {
    const file = join(dir, 'fixtures', 'mixed.yaml');
    await writeFile(file, `tools:
  - { name: get_order, effect: reed }
  - { name: get_order, effect: read }
`);
    expect((await configIssues(loadToolCatalog(file))).map(({ line, path }) => ({ line, path }))).toEqual([
      { line: 2, path: 'tools.0.effect' },
      { line: 3, path: 'tools.1.name' },
    ]);
  });

  it('locates a bad effect class and an unknown key by line', async () => {
    const file = join(dir, 'fixtures', 'bad.yaml');
    await writeFile(
      file,
      `tools:
  - name: get_order
    effect: read
  - name: issue_refund
    effect: write
    acknowledgement: { status: ok }
`,
    );
    const issues = await configIssues(loadToolCatalog(file));
    expect(issues.map(({ message: _m, ...where }) => where)).toEqual([
      { file, line: 5, path: 'tools.1.effect' },
      { file, line: 6, path: 'tools.1.acknowledgement' },
    ]);
  });
});
