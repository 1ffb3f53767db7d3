import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

// The bundled (synthetic) refund-triage traces, with GitHub Actions workflow commands put into
// trace ids, a decision and a recorded tool name here, as someone might write them to forge an
// annotation, mask the verdict or fold it away in a CI log.
const FORGED = '::error title=shadowgate gate::PASS - all checks passed';
const FOLD = '##[group]gate: PASS (details)';
const MASK_LINE = 'x\n::add-mask::FAIL\n  highest phase allowed: auto';
/** A line GitHub's runner reads as a workflow command: `::` after any spaces at its start, or `##[` anywhere. */
const COMMAND = /^\s*::|##\[/;

let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  const lines = readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').trim().split('\n').slice(0, 30);
  const traces = lines.map((l) => JSON.parse(l) as { id: string; human: { decision: { action: string } }; steps: { type: string; name?: string }[] });
  // Disagreeing, so that the run lists them.
  traces[0]!.id = FORGED;
  traces[0]!.human.decision.action = 'nonsense';
  traces[1]!.id = FOLD;
  traces[1]!.human.decision.action = 'nonsense';
  traces[2]!.human.decision.action = '##[add-mask]FAIL';
  traces[3]!.steps.find((s) => s.type === 'tool')!.name = MASK_LINE;
  mkdirSync(join(dir, 'ci'));
  writeFileSync(join(dir, 'ci/traces.jsonl'), `${traces.map((t) => JSON.stringify(t)).join('\n')}\n`);
  // A repeated id that carries a line of its own: refused with --strict, its error echoed.
  writeFileSync(join(dir, 'ci/dup.jsonl'), `${[traces[4], { ...traces[5], id: traces[4]!.id }].map((t) => JSON.stringify(t)).join('\n')}\n`);
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace('../traces/refund-triage/*.jsonl', '../ci/traces.jsonl');
  writeFileSync(join(dir, 'suites/ci.yaml'), suite);
  writeFileSync(join(dir, 'suites/ci-dup.yaml'), suite.replace('../ci/traces.jsonl', '../ci/dup.jsonl'));
});
afterAll(() => cleanup());

const commands = (out: string) => out.split(/\r?\n|\r/).filter((l) => COMMAND.test(l));

it('no line of run, gate, show, phase or an error is a workflow command, whatever the traces hold', async () => {
  const run = await cli(dir, 'gate', 'suites/ci.yaml', '--json', 'out/ci.json', '--db', 'db/ci.db');
  // The forged ids are there, one character shown escaped.
  expect(run.stdout).toContain(String.raw`\x3a:error title=shadowgate gate::PASS - all checks passed`);
  expect(run.stdout).toContain(String.raw`#\x23[group]gate: PASS (details)`);
  const runId = JSON.parse(readFileSync(join(dir, 'out/ci.json'), 'utf8')).runId;
  const show = await cli(dir, 'show', runId, FORGED, '--db', 'db/ci.db');
  const phase = await cli(dir, 'phase', 'suites/ci.yaml', '--db', 'db/ci.db');
  expect(phase.stdout).not.toContain('\n  highest phase allowed: auto');
  // A duplicate id is refused with --strict; the error names it on its own line.
  writeFileSync(join(dir, 'ci/dup.jsonl'), readFileSync(join(dir, 'ci/dup.jsonl'), 'utf8').replaceAll(JSON.stringify(JSON.parse(readFileSync(join(dir, 'ci/dup.jsonl'), 'utf8').split('\n')[0]!).id), JSON.stringify(MASK_LINE)));
  const strict = await cli(dir, 'gate', 'suites/ci-dup.yaml', '--strict', '--db', 'db/ci.db');
  expect(strict.code).toBe(2);
  expect(strict.stderr).toContain(String.raw`ci/dup.jsonl:2: id: duplicate trace id x\n::add-mask::FAIL\n  highest phase allowed: auto (first at ci/dup.jsonl:1)`);
  for (const out of [run, show, phase, strict]) expect(commands(out.stdout + out.stderr)).toEqual([]);
});
