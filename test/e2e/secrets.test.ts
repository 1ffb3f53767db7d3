import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { http, HttpResponse, type JsonBodyType } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliWithEnv } from './helpers.js';
import { createFakeApis, OPENAI_URL } from '../providers/fake-apis.js';
import { DECISION_SCHEMA, modelSuite } from '../providers/suite-helpers.js';
// @ts-expect-error -- a plain JavaScript fixture without type declarations
import { openAIChatCompletion } from '../../fixtures/refund-triage/fake-model.mjs';

/**
 * Secrets redacted by value: a provider stand-in that echoes the run's key back (in a 200
 * body's `id`, `system_fingerprint` and message text, base64-encoded too, in a response
 * header, and in an error body), and a scan of every byte the run wrote for the key.
 * The key and the OTLP token are made up for this test.
 */
const KEY = 'sk-test-echoed-9f8e7d6c5b4a3210';
const OTLP_TOKEN = 'otlp-token-5e6f7a8b9c0d1e2f';
const FORMS = [KEY, Buffer.from(KEY).toString('base64'), Buffer.from(KEY).toString('base64url'), OTLP_TOKEN];

const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => apis.reset());
afterAll(() => apis.server.close());

/** Every request gets the scripted answer with the key it was sent echoed back; the first one of each run fails with it instead. */
function echoTheKey() {
  let calls = 0;
  apis.server.use(
    http.post(OPENAI_URL, async ({ request }) => {
      const key = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '');
      const body = (await request.json()) as Record<string, unknown>;
      apis.seen.push({ url: request.url, body, headers: Object.fromEntries(request.headers.entries()) });
      const echo = { 'x-request-key': key, 'x-request-key-b64': Buffer.from(key).toString('base64') };
      if (calls++ === 0) {
        return HttpResponse.json({ error: { message: `Invalid request made with key ${key}`, type: 'invalid_request_error', code: null } }, { status: 400, headers: echo });
      }
      const answer = openAIChatCompletion(body) as { id: string; system_fingerprint: string; choices: { message: { content: string | null } }[] };
      answer.id = `chatcmpl-${key}`;
      answer.system_fingerprint = key;
      const message = answer.choices[0]!.message;
      if (message.content === null) message.content = `working as ${key} (${Buffer.from(key).toString('base64')})`;
      return HttpResponse.json(answer as unknown as JsonBodyType, { headers: echo });
    }),
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('secrets redacted by value', () => {
  const { dir, cleanup } = modelSuite(`kind: tool-loop\nmodel: openai:gpt-4.1-mini\nprompt: $FIXTURES/prompts/triage.v4.hbs\n${DECISION_SCHEMA}`, 4);
  afterAll(cleanup);
  const env = { OPENAI_API_KEY: KEY, OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${OTLP_TOKEN}`, GITHUB_STEP_SUMMARY: join(dir, 'step-summary.md') };
  const outputs: string[] = [];

  it('runs with --record, the cache, --json, --report and --otel-file while the provider echoes the key everywhere', async () => {
    echoTheKey();
    const first = await cliWithEnv(dir, env, 'run', 'suite.yaml', '--record', '--db', 'sg.db', '--json', 'out/run.json', '--report', 'out/report', '--otel-file', 'out/spans.jsonl');
    // The stand-in did see the key, so that it had it to echo.
    expect(apis.seen.length).toBeGreaterThan(1);
    expect(apis.seen.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    expect([0, 1]).toContain(first.code);
    // A second run answered from the cache (which holds what the first stored), writing every file again.
    echoTheKey();
    const second = await cliWithEnv(dir, env, 'run', 'suite.yaml', '--db', 'sg.db', '--json', 'out/cached.json', '--report', 'out/cached-report', '--otel-file', 'out/cached-spans.jsonl');
    expect([0, 1]).toContain(second.code);
    expect(JSON.parse(readFileSync(join(dir, 'out/cached.json'), 'utf8')).modelCalls.cacheHits).toBeGreaterThan(0);
    outputs.push(first.stdout, first.stderr, second.stdout, second.stderr);
  });

  it('writes the key in no form to any file: store (database and WAL bytes), cache, cassette, results, reports, spans, step summary', () => {
    const written = filesUnder(dir).filter((f) => statSync(f).size > 0);
    const names = written.map((f) => f.slice(dir.length + 1));
    expect(names).toEqual(
      expect.arrayContaining([
        'sg.db', 'fixtures/cassettes/model-suite.json', 'out/run.json', 'out/report/report.md', 'out/report/report.html',
        'out/report/junit.xml', 'out/report/results.json', 'out/spans.jsonl', 'out/cached.json', 'step-summary.md',
      ]),
    );
    for (const file of written) {
      const bytes = readFileSync(file);
      for (const form of FORMS) expect(bytes.includes(form), `${form} in ${file}`).toBe(false);
    }
    // What was echoed reached the writers, marked where the key was: the test is not passing on an empty run.
    const marked = (file: string) => readFileSync(join(dir, file)).includes('[redacted:OPENAI_API_KEY]');
    expect(['fixtures/cassettes/model-suite.json', 'sg.db', 'out/run.json', 'out/cached.json', 'out/report/report.html', 'out/spans.jsonl'].filter((f) => !marked(f))).toEqual([]);
  });

  it('prints the key in no form, and names the failure the echoed error caused without it', () => {
    for (const text of outputs) for (const form of FORMS) expect(text.includes(form)).toBe(false);
    const run = JSON.parse(readFileSync(join(dir, 'out/run.json'), 'utf8')) as { results: { error?: { message: string } }[] };
    const errors = run.results.flatMap((r) => (r.error ? [r.error.message] : []));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('Invalid request made with key [redacted:OPENAI_API_KEY]');
  });
});
