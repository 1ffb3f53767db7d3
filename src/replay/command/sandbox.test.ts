import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { bwrapCommand, relayEntry } from './sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-bwrap-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('binds back, read-only and after the private /tmp, Node, the relay and the files the command names, never a folder', () => {
  const program = join(dir, 'agent.py');
  writeFileSync(program, 'print("hi")\n');
  const { args } = bwrapCommand({ scratchDir: join(dir, 'scratch'), binds: [], roBinds: [], cwd: dir, env: {}, relay: [], command: ['python3', 'agent.py', '/', '.', '-u'] });
  const tmpfs = args.findIndex((a, i) => a === '--tmpfs' && args[i + 1] === '/tmp');
  const roBound = args.flatMap((a, i) => (a === '--ro-bind' && i > tmpfs ? [args[i + 1]] : []));
  expect(tmpfs).toBeGreaterThan(-1);
  expect(roBound).toEqual(expect.arrayContaining([process.execPath, relayEntry(), program]));
  // `/` (and `.`, the agent's folder, bound on its own) as arguments: no folder is bound for them, or the real /tmp would come back.
  expect(roBound.filter((p) => p === '/')).toEqual([]);
  expect(roBound.filter((p) => p === dir)).toEqual([dir]);
});
