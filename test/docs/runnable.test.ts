import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Code blocks in the README and docs/ whose fence reads ```sh runnable (```sh runnable exit=1
// when the commands are meant to fail) are run here, in order, file by file, each file in its
// own temporary copy of the bundled example, so that the docs cannot drift from the tool.
// `shadowgate` and `npx shadowgate` are the built CLI (dist/, as `npm test` builds it); nothing
// reaches the network (no provider key is passed on, and `npx` runs nothing else).

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin', 'shadowgate.js');
/** What a block may use of the repository: the example's suites, traces and fixtures (catalogs, agents, prompts, cassettes). */
const EXAMPLE = ['suites', 'traces', 'fixtures'];
const FENCE = /^```sh runnable(?: exit=(\d+))?\s*$/;

interface Block {
  file: string;
  line: number;
  code: string;
  exit: number;
}

/** The runnable blocks of one Markdown file, in order. */
function runnableBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: a runnable block that is never closed`);
    blocks.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n'), exit: Number(open[1] ?? 0) });
    i = end;
  }
  return blocks;
}

const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const byFile = docs.map((file) => ({ file, blocks: runnableBlocks(file, readFileSync(join(ROOT, file), 'utf8')) })).filter((d) => d.blocks.length > 0);

/** A folder with `shadowgate` and `npx` on it: both run the built CLI, and `npx` nothing else. */
function shims(dir: string): string {
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  const write = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  write('shadowgate', `exec "${process.execPath}" "${CLI}" "$@"`);
  write('npx', `if [ "$1" = shadowgate ]; then shift; exec "${process.execPath}" "${CLI}" "$@"; fi\necho "runnable docs: only \\"npx shadowgate\\" runs here, not npx $1" >&2\nexit 127`);
  return bin;
}

/** The environment of a block: no provider key, no store or config of the machine's, plain output. */
function environment(bin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, CI: 'true', HOME: process.env.HOME, TZ: 'UTC' };
  return env;
}

describe('runnable blocks in the docs', () => {
  it('marks the main jobs as runnable', () => {
    const all = byFile.flatMap((d) => d.blocks.map((b) => b.code)).join('\n');
    for (const command of ['run suites/refund-triage.yaml', 'run suites/refund-triage-regression.yaml', 'validate', 'plan', 'show', 'runs', 'compare', 'drift']) {
      expect(all, `no runnable block runs \`shadowgate ${command}\``).toMatch(new RegExp(`shadowgate ${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    expect(byFile.flatMap((d) => d.blocks).some((b) => b.exit === 1)).toBe(true);
  });

  it('reads the fence, the code and the exit code of a block', () => {
    const text = ['# t', '```sh runnable exit=1', 'npx shadowgate gate a.yaml', '```', '```sh', 'not run', '```', '```sh runnable', 'a', 'b', '```'].join('\n');
    expect(runnableBlocks('t.md', text)).toEqual([
      { file: 't.md', line: 2, code: 'npx shadowgate gate a.yaml', exit: 1 },
      { file: 't.md', line: 8, code: 'a\nb', exit: 0 },
    ]);
  });

  for (const { file, blocks } of byFile) {
    describe(file, () => {
      let dir = '';
      let env: NodeJS.ProcessEnv = {};
      beforeAll(() => {
        expect(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'the runnable docs run the built CLI: run `npm run build` first').toBe(true);
        dir = mkdtempSync(join(tmpdir(), 'sg-docs-'));
        for (const part of EXAMPLE) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
        env = environment(shims(dir));
      });
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      for (const block of blocks) {
        it(`${file}:${block.line} exits ${block.exit}`, { timeout: 240_000 }, () => {
          const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', block.code], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          const tail = (s: string) => s.split('\n').slice(-25).join('\n');
          expect(run.status, `${file}:${block.line}\n${block.code}\n--- stdout\n${tail(run.stdout)}\n--- stderr\n${tail(run.stderr)}`).toBe(block.exit);
        });
      }
    });
  }
});
