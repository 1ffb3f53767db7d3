import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error a plain ESM script shared with the fixture's README instructions
import { digest } from '../fixtures/pool/digest.mjs';
import { cli, copyExample, ROOT } from './helpers.js';

// Module candidates run in a pool of child processes. Their results must be those the
// in-process runner gave on the same traces (stored in test/fixtures/pool, see its README),
// whatever the number of processes and of traces in flight.

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

const expected = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/pool/in-process-figures.json'), 'utf8')) as Record<string, unknown>;

describe('the bundled module suites in the pool', () => {
  it.each([
    ['refund-triage', '1', '1'],
    ['refund-triage-http', '2', '8'],
    ['refund-triage-regression', '3', '5'],
  ])('%s with --workers %s --concurrency %s gives the in-process figures and results', async (suite, workers, concurrency) => {
    const out = `out/${suite}.json`;
    const { code, stderr } = await cli(dir, 'run', `suites/${suite}.yaml`, '--json', out, '--db', 'db.sqlite', '--workers', workers, '--concurrency', concurrency);
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(suite === 'refund-triage-regression' ? 1 : 0);
    expect(digest(JSON.parse(readFileSync(join(dir, out), 'utf8')))).toEqual(expected[suite]);
  }, 120_000);
});
