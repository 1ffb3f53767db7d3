import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { parseTraceLine } from '../../src/trace/reader.js';
import { cli, copyExample, ROOT } from './helpers.js';

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace('phase: shadow', 'phase: suggest');
  writeFileSync(join(dir, 'suites/suggest.yaml'), suite.replace('traces: ["../traces/refund-triage/*.jsonl"]', 'traces: ["../traces/refund-triage/2026-w44.jsonl"]'));
  await cli(dir, 'run', 'suites/suggest.yaml', '--db', 'db/r.db');
});
afterAll(() => cleanup());

const pending = () => {
  const store = createSqliteStore(join(dir, 'db/r.db'));
  try {
    return store.reviewItems({ pending: true }).length;
  } finally {
    store.close();
  }
};

it('queues every suggestion of a suggest-phase run, and takes verdicts typed at the prompt', async () => {
  expect(pending()).toBe(152);
  let out = '';
  const code = await runCli(['review', '--reviewer', 'ana', '--db', 'db/r.db'], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (out += s) },
    env: {},
    cwd: dir,
    stdin: Readable.from(['a\n', 'e\n', '{"action":"deny"}\n', 'r\n', 'not our policy\n', 'x\n', 's\n', 'q\n']),
  });
  expect(code).toBe(0);
  expect(out).toContain('suggestion:');
  expect(out).toContain('3 verdict(s) given');
  expect(pending()).toBe(149);
  const store = createSqliteStore(join(dir, 'db/r.db'));
  const reviewed = store.reviewItems().filter((i) => i.verdicts.length > 0);
  store.close();
  expect(reviewed.map((i) => [i.verdicts[0]!.verdict, i.verdicts[0]!.reviewer])).toEqual([['accepted', 'ana'], ['edited', 'ana'], ['rejected', 'ana']]);
  expect(reviewed[1]!.verdicts[0]!.final).toEqual({ action: 'deny' });
  expect(reviewed[2]!.verdicts[0]!.reason).toBe('not our policy');
});

it('takes the file after --as-traces, as written, beside --out; refuses two different files or none', async () => {
  const written = await cli(dir, 'review', 'export', '--as-traces', 'out/as-traces.jsonl', '--db', 'db/r.db');
  expect(written.code).toBe(0);
  // accepted and edited are written; the rejection has no final decision, so it is left out and said
  expect(written.stdout).toBe('2 trace(s) written to out/as-traces.jsonl\n1 rejected item(s) without a final decision left out: a rejection says the suggestion was wrong, not what was right (record one with `review import` and `final`)\n');
  expect((await cli(dir, 'review', 'export', '--as-traces', '--out', 'out/with-out.jsonl', '--db', 'db/r.db')).code).toBe(0);
  expect(readFileSync(join(dir, 'out/as-traces.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'out/with-out.jsonl'), 'utf8'));
  expect((await cli(dir, 'review', 'export', '--as-traces', 'out/same.jsonl', '--out', 'out/same.jsonl', '--db', 'db/r.db')).code).toBe(0);
  const items = await cli(dir, 'review', 'export', '--out', 'out/items.jsonl', '--db', 'db/r.db');
  const itemLines = readFileSync(join(dir, 'out/items.jsonl'), 'utf8').trim().split('\n').length;
  expect(items.stdout).toBe(`${itemLines} item(s) written to out/items.jsonl\n`);
  expect(itemLines).toBeGreaterThan(3); // every item, not only the reviewed ones
  const two = await cli(dir, 'review', 'export', '--as-traces', 'out/a.jsonl', '--out', 'out/b.jsonl', '--db', 'db/r.db');
  expect(two.code).toBe(2);
  expect(two.stderr).toContain('error: review export: --as-traces out/a.jsonl and --out out/b.jsonl name two files');
  const none = await cli(dir, 'review', 'export', '--db', 'db/r.db');
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('error: review export needs a file to write');
});

it('exports the reviewed items as regression traces that validate, and imports outside verdicts', async () => {
  expect((await cli(dir, 'review', 'export', '--as-traces', '--out', 'out/reviewed.jsonl', '--db', 'db/r.db')).code).toBe(0);
  const lines = readFileSync(join(dir, 'out/reviewed.jsonl'), 'utf8').trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines.map((l) => JSON.parse(l).human.verdict)).toEqual(['accepted', 'edited']);
  for (const [i, line] of lines.entries()) expect(parseTraceLine(line, 'reviewed.jsonl', i + 1)).toMatchObject({ ok: true });
  expect(JSON.parse(lines[1]!).human).toMatchObject({ decision: { action: 'deny' }, verdict: 'edited' });
  expect((await cli(dir, 'validate', 'out/reviewed.jsonl')).code).toBe(0);
  // They carry the recorded steps, so a suite replays them, the reviewers' finals as the reference.
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace('traces: ["../traces/refund-triage/*.jsonl"]', 'traces: ["../out/reviewed.jsonl"]');
  writeFileSync(join(dir, 'suites/reviewed.yaml'), suite);
  await cli(dir, 'run', 'suites/reviewed.yaml', '--json', 'out/replayed.json', '--db', 'db/r2.db');
  const replayed = readJson('out/replayed.json');
  expect(replayed.counts.diverged).toBe(0);
  expect(replayed.metrics.agreement.n).toBe(2);

  const store = createSqliteStore(join(dir, 'db/r.db'));
  const next = store.reviewItems({ pending: true })[0]!;
  store.close();
  writeFileSync(join(dir, 'out/verdicts.jsonl'), `${JSON.stringify({ itemId: next.id, verdict: 'accepted', reviewer: 'tool' })}\n`);
  expect((await cli(dir, 'review', 'import', 'out/verdicts.jsonl', '--db', 'db/r.db')).stdout).toContain('1 verdict(s) imported');
  expect(pending()).toBe(148);
  writeFileSync(join(dir, 'out/bad.jsonl'), `{"itemId":"x"}\n${JSON.stringify({ itemId: next.id, verdict: 'edited', reviewer: 'tool' })}\n`);
  const bad = await cli(dir, 'review', 'import', 'out/bad.jsonl', '--db', 'db/r.db');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('out/bad.jsonl:1');
  expect(bad.stderr).toContain('out/bad.jsonl:2: an edited verdict needs the edited decision as `final`');
});

it('exports a rejection as a trace only with the final decision the reviewer gave, never the recorded reference', async () => {
  const store = createSqliteStore(join(dir, 'db/r.db'));
  const rejected = store.reviewItems().find((i) => i.verdicts.at(-1)?.verdict === 'rejected')!;
  store.close();
  expect(rejected.reference).toBeDefined();
  const final = { action: 'escalate', note: 'made up for this test' };
  writeFileSync(join(dir, 'out/final.jsonl'), `${JSON.stringify({ itemId: rejected.id, verdict: 'rejected', final, reviewer: 'cy' })}\n`);
  expect((await cli(dir, 'review', 'import', 'out/final.jsonl', '--db', 'db/r.db')).code).toBe(0);
  const written = await cli(dir, 'review', 'export', '--as-traces', 'out/with-final.jsonl', '--db', 'db/r.db');
  expect(written.stdout).not.toContain('left out');
  const traces = readFileSync(join(dir, 'out/with-final.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const fromRejection = traces.find((t) => t.human.verdict === 'rejected');
  expect(fromRejection.human).toMatchObject({ decision: final, final, reviewer: 'cy' });
  expect(fromRejection.metadata.reviewOf.traceId).toBe(rejected.traceId);
});

it('works through a pseudo-terminal, as a person at a keyboard would', () => {
  // `script` gives the CLI a real terminal; the answers are typed into it.
  const result = spawnSync('script', ['-qec', `node ${join(ROOT, 'bin/shadowgate.js')} review --reviewer bo --db db/r.db`, '/dev/null'], {
    cwd: dir,
    input: 'a\nq\n',
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    timeout: 20_000,
  });
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('[a]ccept, [e]dit, [r]eject, [s]kip, [q]uit?');
  expect(result.stdout).toContain('1 verdict(s) given');
  expect(pending()).toBe(147);
});
