import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSuite } from '../../src/suite/load.js';
import { runSuite } from '../../src/run/run-suite.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { evaluateGate } from '../../src/gate/gate.js';

// A candidate that answers differently the second time it sees half of the traces:
// an A/A run of it must show exactly those flips.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-noise-'));
  const traces = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({ schema: 'shadowgate.trace/v1', id: `t${i}`, workflow: 'w', input: { i }, steps: [], human: { decision: 'yes' } }),
  );
  writeFileSync(join(dir, 'traces.jsonl'), `${traces.join('\n')}\n`);
  writeFileSync(join(dir, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
  writeFileSync(
    join(dir, 'flaky.mjs'),
    `const seen = new Map();
export async function run(input, ctx) {
  const n = (seen.get(ctx.trace.id) ?? 0) + 1;
  seen.set(ctx.trace.id, n);
  return { decision: n === 2 && input.i % 2 === 0 ? 'no' : 'yes' };
}
`,
  );
  writeFileSync(join(dir, 'suite.yaml'), 'name: flaky\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: flaky.mjs }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs the candidate twice and reports how much it disagrees with itself', async () => {
  const store = createMemoryStore();
  const outcome = await runSuite(await loadSuite(join(dir, 'suite.yaml')), { store, noiseFloor: true, cwd: dir });
  expect(outcome.metrics.agreement.rate).toBe(1);
  expect(outcome.metrics.noiseFloor).toMatchObject({ pairs: 10, flips: 5, selfDisagreement: 0.5, agreementDelta: 0.5 });
  expect(store.getRun(outcome.metrics.noiseFloor!.runId)!.finishedAt).not.toBeNull();

  // A gate that asks for regressions beyond the noise allows half of the A/A flips more.
  const paired = { baselineRunId: 'b', regressions: ['t1', 't2', 't3'], fixes: [], mcnemarMidP: 0.06, pairs: 10, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 0 } };
  const gate = evaluateGate({ regressions: { max: 0, beyondNoise: true } }, { ...outcome.metrics, paired });
  expect(gate.checks[0]).toMatchObject({ name: 'regressions', threshold: 3, status: 'pass' });
  expect(gate.checks[0]!.reason).toContain('the maximum includes 3 for noise (5 flips in an A/A run)');
  expect(evaluateGate({ regressions: { max: 0, beyondNoise: true } }, { ...outcome.metrics, paired, noiseFloor: undefined }).checks[0]).toMatchObject({
    status: 'inconclusive',
    reason: 'beyondNoise needs the noise floor: pass --noise-floor',
  });
});
