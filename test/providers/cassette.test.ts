import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliWithEnv } from '../e2e/helpers.js';
import { createFakeApis } from './fake-apis.js';
import { DECISION_SCHEMA, modelSuite } from './suite-helpers.js';

const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => apis.reset());
afterAll(() => apis.server.close());

const FAKE_KEY = 'sk-test-cassette-0f1e2d3c4b5a6978';
const CANDIDATE = `kind: tool-loop
model: openai:gpt-4.1-mini
prompt: $FIXTURES/prompts/triage.v4.hbs
${DECISION_SCHEMA}`;

/** Runs the CLI as a user would, with the fake key in the environment. */
const shadowgate = cliWithEnv;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('cassettes', () => {
  const { dir, cleanup } = modelSuite(CANDIDATE, 4);
  afterAll(cleanup);

  it('records every exchange with --record, and serves a keyless --replay-only run from it with no network call', async () => {
    const recorded = await shadowgate(dir, { OPENAI_API_KEY: FAKE_KEY }, 'run', 'suite.yaml', '--record', '--db', 'rec.db', '--json', 'out/rec.json');
    expect(recorded.code).toBe(0);
    expect(recorded.stdout).toMatch(/cassette: 16 exchange\(s\) recorded/);
    const cassette = JSON.parse(readFileSync(join(dir, 'fixtures/cassettes/model-suite.json'), 'utf8'));
    expect(cassette.schema).toBe('shadowgate.cassette/v1');
    expect(cassette.exchanges).toHaveLength(16);
    expect(Object.keys(cassette.exchanges[0])).toEqual(['key', 'request', 'response', 'latencyMs']);
    const calls = apis.seen.length;

    // No key at all, a fresh store, and every answer from the cassette.
    const replayed = await shadowgate(dir, {}, 'run', 'suite.yaml', '--replay-only', '--db', 'replay.db', '--json', 'out/replay.json');
    expect(apis.seen.length).toBe(calls);
    const first = JSON.parse(readFileSync(join(dir, 'out/rec.json'), 'utf8'));
    const second = JSON.parse(readFileSync(join(dir, 'out/replay.json'), 'utf8'));
    expect(second.modelCalls).toMatchObject({ requests: 16, cassetteHits: 16, network: 0 });
    expect(second.metrics.cost.spentUsd).toBe(0);
    expect(second.results.map((r: { decision: unknown }) => r.decision)).toEqual(first.results.map((r: { decision: unknown }) => r.decision));
    expect(replayed.code).toBe(recorded.code);
  });

  it('fails only the trace whose request is not in the cassette, naming it', async () => {
    const file = join(dir, 'fixtures/cassettes/model-suite.json');
    const cassette = JSON.parse(readFileSync(file, 'utf8'));
    const dropped = cassette.exchanges.find((e: { request: { body: { messages: unknown[] } } }) => e.request.body.messages.length === 2);
    cassette.exchanges = cassette.exchanges.filter((e: unknown) => e !== dropped);
    writeFileSync(file, JSON.stringify(cassette));
    await shadowgate(dir, {}, 'run', 'suite.yaml', '--replay-only', '--db', 'miss.db', '--json', 'out/miss.json');
    const out = JSON.parse(readFileSync(join(dir, 'out/miss.json'), 'utf8'));
    const failed = out.results.filter((r: { status: string }) => r.status === 'error');
    expect(failed).toHaveLength(1);
    expect(failed[0].error.message).toMatch(
      /^no cassette entry for POST https:\/\/api\.openai\.com\/v1\/chat\/completions \(model gpt-4\.1-mini, trial 0, 2 message\(s\)\), request key [0-9a-f]{16}$/,
    );
    expect(out.results.filter((r: { status: string }) => r.status === 'completed')).toHaveLength(3);
    expect(apis.seen).toHaveLength(0);
  });

  it('writes the key to no file: cassette, store, WAL, JSON results', () => {
    const written = filesUnder(dir).filter((f) => statSync(f).size > 0);
    expect(written.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
      expect.arrayContaining(['fixtures/cassettes/model-suite.json', 'out/rec.json', 'rec.db']),
    );
    for (const f of written) {
      const bytes = readFileSync(f);
      expect(bytes.includes(FAKE_KEY), f).toBe(false);
      expect(bytes.includes('Bearer'), f).toBe(false);
    }
  });

  it('records the A/A run of --noise-floor into the same cassette, so that it replays too', async () => {
    const recorded = await shadowgate(dir, { OPENAI_API_KEY: FAKE_KEY }, 'run', 'suite.yaml', '--record', '--noise-floor', '--cassette', 'aa.json', '--db', 'aa.db');
    expect(recorded.stdout).toMatch(/cassette: 32 exchange\(s\) recorded/);
    const calls = apis.seen.length;
    const replayed = await shadowgate(dir, {}, 'run', 'suite.yaml', '--replay-only', '--noise-floor', '--cassette', 'aa.json', '--db', 'aa2.db', '--json', 'out/aa.json');
    expect(apis.seen.length).toBe(calls);
    expect(JSON.parse(readFileSync(join(dir, 'out/aa.json'), 'utf8')).metrics.noiseFloor).toMatchObject({ pairs: 4, flips: 0, spentUsd: 0 });
    expect(replayed.stdout).not.toContain('warning');
  });

  it('refuses --record with --replay-only, and --replay-only without a cassette', async () => {
    expect((await shadowgate(dir, {}, 'run', 'suite.yaml', '--record', '--replay-only')).code).toBe(2);
    rmSync(join(dir, 'fixtures/cassettes'), { recursive: true });
    const missing = await shadowgate(dir, {}, 'run', 'suite.yaml', '--replay-only', '--db', 'x.db');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no cassette at .*model-suite\.json/);
  });

  it('without a key, a call that is neither cached nor in a cassette stops the run with exit 2 and says how to fix it', async () => {
    const out = await shadowgate(dir, {}, 'run', 'suite.yaml', '--db', 'nokey.db');
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/no API key for https:\/\/api\.openai\.com/);
    expect(out.stderr).toContain('hint: set OPENAI_API_KEY');
    expect(apis.seen).toHaveLength(0);
  });

});
