import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFakeApis } from '../providers/fake-apis.js';
import { copyExample } from './helpers.js';
import { runCli } from '../../src/cli/program.js';

// The bundled OpenAI suite, end to end through the CLI, with the OpenAI API emulated over HTTP
// by the example's scripted stand-in model: nothing leaves the machine.
const apis = createFakeApis();
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  // The suite's per-minute limits suit a real account; the emulated API has none, and the limiter has its own tests.
  const suite = join(dir, 'suites/refund-triage-openai.yaml');
  writeFileSync(suite, readFileSync(suite, 'utf8').replace(/^  limits: .*$/m, '  limits: { concurrency: 16 }'));
  apis.server.listen({ onUnhandledRequest: 'error' });
});
afterAll(() => {
  apis.server.close();
  cleanup();
});

const env = { CI: 'true', OPENAI_API_KEY: 'sk-test-e2e' };
async function shadowgate(...argv: string[]) {
  let stdout = '';
  const code = await runCli(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, env, cwd: dir });
  return { code, stdout };
}

it('runs suites/refund-triage-openai.yaml over HTTP, then again entirely from the cache', async () => {
  const first = await shadowgate('run', 'suites/refund-triage-openai.yaml', '--json', 'out/first.json', '--db', 'db.sqlite', '--concurrency', '16');
  expect(first.code).toBe(0);
  const run = JSON.parse(readFileSync(join(dir, 'out/first.json'), 'utf8'));
  expect(run.counts.total).toBe(480);
  expect(run.counts.completed + run.counts.escalated).toBe(480);
  expect(run.modelCalls.network).toBe(apis.seen.length);
  expect(run.metrics.cost.perRunUsd).toBeGreaterThan(0);
  expect(run.gate.checks.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([
    ['agreement', 'pass'],
    ['errorRate', 'pass'],
    ['costPerRunUsd', 'pass'],
    ['coverage', 'pass'],
  ]);
  expect(first.stdout).toMatch(/model calls\s+\d+; this run: \d+ to the provider; spent \$/);

  const calls = apis.seen.length;
  const second = await shadowgate('run', 'suites/refund-triage-openai.yaml', '--json', 'out/second.json', '--db', 'db.sqlite', '--concurrency', '16');
  expect(second.code).toBe(0);
  expect(apis.seen.length).toBe(calls);
  const again = JSON.parse(readFileSync(join(dir, 'out/second.json'), 'utf8'));
  expect(again.modelCalls).toMatchObject({ network: 0, cacheHits: calls });
  expect(again.metrics.cost.spentUsd).toBe(0);
  expect(second.stdout).toMatch(new RegExp(`this run: ${calls} cache hit\\(s\\), 0 to the provider; spent \\$0\\.00000`));
  expect(again.metrics.agreement).toEqual(run.metrics.agreement);
});
