/**
 * The repository's tests do not depend on the user's files. A user who follows the README adds a
 * suite to suites/ (a suggest copy of the example's) and imports traces into traces/; the tests that
 * read those folders must stay green. This copies the repository's sources and tests into a temporary
 * folder (with the build, dist/, which a module candidate's worker processes run), adds both there,
 * and runs those test files with Vitest in the copy.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cli } from './e2e/helpers.js';
import { ROOT } from './example.js';

/** The test files that read suites/ or traces/ of the repository itself, or count what is in them. */
const AFFECTED = ['test/example-data.test.ts', 'src/json-schema/generate.test.ts', 'test/e2e/phase.test.ts', 'test/e2e/drift.test.ts'];

const copy = mkdtempSync(join(tmpdir(), 'sg-user-files-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

it('a suite added to suites/ and traces imported into traces/ leave the tests that read those folders green', { timeout: 600_000 }, async () => {
  for (const part of ['src', 'dist', 'scripts', 'test', 'suites', 'traces', 'fixtures', 'schema', 'bin', 'package.json', 'tsconfig.json', 'vitest.config.ts']) {
    cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');

  // What the README tells a user to do: a suggest copy of the suite, and traces imported from a message log.
  const suite = readFileSync(join(copy, 'suites/refund-triage.yaml'), 'utf8');
  writeFileSync(join(copy, 'suites/refund-triage-suggest.yaml'), suite.replace('name: refund-triage\n', 'name: refund-triage-suggest\n').replace('phase: shadow\n', 'phase: suggest\n'));
  expect(readFileSync(join(copy, 'suites/refund-triage-suggest.yaml'), 'utf8')).toMatch(/^phase: suggest$/m);
  const imported = await cli(copy, 'import', 'openai', 'test/fixtures/importers/openai-chat.jsonl', '--out', 'traces/support.jsonl');
  expect(imported.stdout).toMatch(/^[1-9]\d* trace\(s\) written to traces\/support\.jsonl/m);

  const vitest = spawnSync(process.execPath, [join(copy, 'node_modules/vitest/vitest.mjs'), 'run', ...AFFECTED], {
    cwd: copy,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  // eslint-disable-next-line no-control-regex -- the colours Vitest may print
  const output = `${vitest.stdout}${vitest.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
  expect(vitest.status, output).toBe(0);
  expect(output).toMatch(new RegExp(`Test Files\\s+${AFFECTED.length} passed`));
});
