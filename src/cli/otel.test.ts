import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunOutcome } from '../run/run-suite.js';
import type { ResolvedSuite } from '../suite/load.js';
import { createOtelExport } from './otel.js';

describe('createOtelExport', () => {
  // A collector on this machine that refuses every batch.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400).end('no'));
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('names a failed endpoint without its user, password or query values', async () => {
    let stderr = '';
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) }, env: {}, cwd: '.' };
    const otel = createOtelExport(io, { otelEndpoint: `http://user:s3cret@127.0.0.1:${port}/v1/traces?token=abc` })!;
    // Only what the run span reads of a suite and an outcome.
    const suite = { name: 'refund', candidateLabel: 'module policy', phase: 'shadow', candidate: { kind: 'module' } } as unknown as ResolvedSuite;
    const outcome = { meta: { runId: 'run-1' }, gate: { verdict: 'pass' }, metrics: { agreement: { rate: null } } } as unknown as RunOutcome;
    otel.startRun(suite).finish(outcome);
    await otel.shutdown();
    expect(stderr).toMatch(new RegExp(`^warning: OpenTelemetry export to http://127\\.0\\.0\\.1:${port}/v1/traces\\?token=…: .*\\(1 of 1 span\\(s\\) lost\\)\\n$`));
    expect(stderr).not.toContain('s3cret');
    expect(stderr).not.toContain('abc');
  });
});
