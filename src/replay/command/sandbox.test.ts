import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { bwrapCommand, relayEntry } from './sandbox.js';

// Under /tmp itself, whatever TMPDIR says: what the namespace's private /tmp hides.
const dir = process.platform === 'linux' ? mkdtempSync('/tmp/sg-bwrap-args-') : '';
afterAll(() => void (dir && rmSync(dir, { recursive: true, force: true })));

const roBinds = (command: string[]) => {
  const { args } = bwrapCommand({ scratchDir: join(dir, 'scratch'), binds: [], roBinds: [], cwd: dir, env: {}, relay: [], command });
  const tmpfs = args.findIndex((a, i) => a === '--tmpfs' && args[i + 1] === '/tmp');
  expect(tmpfs).toBeGreaterThan(-1);
  // [source, destination] of every read-only bind after the private /tmp, less the agent's own folder's.
  return args.flatMap((a, i) => (a === '--ro-bind' && i > tmpfs && args[i + 1] !== dir ? [[args[i + 1], args[i + 2]]] : []));
};

it.skipIf(process.platform !== 'linux')('shows the agent the files under /tmp its command names, read-only, at their paths and their links\' targets', () => {
  const program = join(dir, 'agent.py');
  writeFileSync(program, 'print("hi")\n');
  // A link under /tmp to a file elsewhere (a virtualenv's python), and a link elsewhere's target under /tmp.
  symlinkSync(process.execPath, join(dir, 'python'));
  symlinkSync(program, join(dir, 'agent-link.py'));
  expect(roBinds(['python', 'agent-link.py', 'agent.py'])).toEqual([
    ...(relayEntry().startsWith('/tmp/') ? [[relayEntry(), relayEntry()]] : []),
    [process.execPath, join(dir, 'python')],
    [program, join(dir, 'agent-link.py')],
    [program, program],
    [program, program],
  ]);
});

it.skipIf(process.platform !== 'linux')('binds no folder, nothing outside /tmp, and nothing for arguments that are not paths', () => {
  // `/` bound would bring the machine's /tmp back; a long inline script or a path through a file is no path (and no crash).
  expect(roBinds(['python3', '/', '.', '/usr/bin/env', '-c', `print("${'x'.repeat(300)}")`, 'agent.py/extra', join(dir, 'missing.py')])).toEqual(
    relayEntry().startsWith('/tmp/') ? [[relayEntry(), relayEntry()]] : [],
  );
});
