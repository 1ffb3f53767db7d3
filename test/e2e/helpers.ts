import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { copyExampleInto, ROOT } from '../example.js';

export { ROOT };

/**
 * A copy of the example's suites, traces and fixtures in a temp folder, so tests can break them:
 * the bundled files only (test/example.ts), never a user's own suites or traces beside them.
 */
export function copyExample(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sg-e2e-'));
  copyExampleInto(dir);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the CLI in-process with captured output, as a user would in `cwd`. */
export async function cli(cwd: string, ...argv: string[]) {
  return cliWithEnv(cwd, {}, ...argv);
}

/** `cli`, with these variables (API keys) in the CLI's environment as well. */
export async function cliWithEnv(cwd: string, env: Record<string, string>, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CI: 'true', ...env },
    cwd,
  });
  return { code, stdout, stderr };
}

/**
 * Made-up traces for the resume and lease tests: `n` traces of one read tool (`lookup`) whose
 * reference decision is whether the trace's number is even, and their one-tool catalog.
 */
export function writeEvenOddTraces(dir: string, n: number): void {
  const traces = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      schema: 'shadowgate.trace/v1',
      id: `t${i}`,
      workflow: 'slow',
      input: { id: i },
      steps: [{ type: 'tool', name: 'lookup', args: { id: i }, result: { even: i % 2 === 0 } }],
      human: { decision: i % 2 === 0 ? 'even' : 'odd' },
    }),
  );
  writeFileSync(join(dir, 'traces.jsonl'), `${traces.join('\n')}\n`);
  writeFileSync(join(dir, 'tools.yaml'), 'tools:\n  - name: lookup\n    effect: read\n');
}
