import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/cli/program.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** A copy of the example's suites, traces and fixtures in a temp folder, so tests can break them. */
export function copyExample(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sg-e2e-'));
  for (const part of ['suites', 'traces', 'fixtures']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
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
