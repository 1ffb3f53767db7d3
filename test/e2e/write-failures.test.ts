import * as realFs from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cliWithEnv } from './helpers.js';
import { createFakeApis } from '../providers/fake-apis.js';
import { DECISION_SCHEMA, modelSuite } from '../providers/suite-helpers.js';

/**
 * Files are written whole or not at all. A full disk is injected at the file system's edge:
 * while `disk.full` is set, a write to one of shadowgate's temporary files writes a few bytes
 * and then fails with ENOSPC, as a real full disk does. (Tests run as root here, so a
 * read-only folder would not stop a write; a path under a file, and a folder where a file
 * should be, are real failures.)
 */
const disk = vi.hoisted(() => ({ full: false, temps: new Set<number>() }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const openSync = ((path: realFs.PathLike, ...rest: unknown[]) => {
    const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
    if (String(path).endsWith('.tmp')) disk.temps.add(fd);
    return fd;
  }) as typeof fs.openSync;
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    if (disk.full && disk.temps.has(fd)) {
      fs.writeSync(fd, '{"partial');
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    }
    return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, openSync, writeSync }, openSync, writeSync };
});

const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  apis.reset();
  disk.full = false;
});
afterAll(() => apis.server.close());

const KEY = 'sk-test-writes-00112233445566'; // made up for this test
/** The CLI's exit code and what it printed to stderr, less the progress lines. */
async function shadowgate(dir: string, ...argv: string[]) {
  const { code, stderr } = await cliWithEnv(dir, { OPENAI_API_KEY: KEY }, ...argv);
  return { code, stderr: stderr.split('\n').filter((line) => !/^model-suite: \d+\/\d+ traces/.test(line)).join('\n') };
}

/** The files in a folder, temporary ones included, recursively. */
const listing = (dir: string) => realFs.readdirSync(dir, { recursive: true }).map(String).sort();

describe('files written whole or not at all', () => {
  const { dir, cleanup } = modelSuite(`kind: tool-loop\nmodel: openai:gpt-4.1-mini\nprompt: $FIXTURES/prompts/triage.v4.hbs\n${DECISION_SCHEMA}`, 3);
  afterAll(cleanup);

  it('a full disk while writing --json is exit 2 naming the file and the system message, and keeps the old file as it was', async () => {
    realFs.mkdirSync(join(dir, 'out'), { recursive: true });
    realFs.writeFileSync(join(dir, 'out/run.json'), '{"old": true}\n');
    disk.full = true;
    const { code, stderr } = await shadowgate(dir, 'run', 'suite.yaml', '--db', 'a.db', '--json', 'out/run.json');
    expect(code).toBe(2);
    expect(stderr).toBe(`error: cannot write ${join(dir, 'out/run.json')}: ENOSPC: no space left on device\nhint: free some space, or name a file in a folder you can write to\n`);
    expect(realFs.readFileSync(join(dir, 'out/run.json'), 'utf8')).toBe('{"old": true}\n');
    expect(listing(join(dir, 'out'))).toEqual(['run.json']);
  });

  it('a full disk while writing a cassette or an import leaves neither, nor a temporary file', async () => {
    disk.full = true;
    const recorded = await shadowgate(dir, 'run', 'suite.yaml', '--db', 'b.db', '--record', '--cassette', 'tapes/c.json');
    expect(recorded.code).toBe(2);
    expect(recorded.stderr).toMatch(new RegExp(`^error: cannot write ${join(dir, 'tapes/c.json')}: ENOSPC: no space left on device\n`));
    expect(listing(join(dir, 'tapes'))).toEqual([]);

    realFs.writeFileSync(join(dir, 'log.jsonl'), `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`);
    const imported = await shadowgate(dir, 'import', 'openai', 'log.jsonl', '--model', 'gpt-4.1-mini', '--out', 'imported/traces.jsonl');
    expect(imported.code).toBe(2);
    expect(imported.stderr).toMatch(new RegExp(`^error: cannot write ${join(dir, 'imported/traces.jsonl')}: ENOSPC: no space left on device\n`));
    expect(listing(join(dir, 'imported'))).toEqual([]);
  });

  it('a report file that is a folder is exit 2 naming it, with no temporary file left in the report folder', async () => {
    realFs.mkdirSync(join(dir, 'report/junit.xml'), { recursive: true });
    const { code, stderr } = await shadowgate(dir, 'run', 'suite.yaml', '--db', 'c.db', '--report', 'report');
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^error: cannot write ${join(dir, 'report/junit.xml')}: EISDIR: illegal operation on a directory\n`));
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
    expect(listing(join(dir, 'report')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a --json path under a file is exit 2 naming it, before anything runs', async () => {
    realFs.writeFileSync(join(dir, 'blocker'), 'a file, not a folder\n');
    const { code, stderr } = await shadowgate(dir, 'run', 'suite.yaml', '--db', 'd.db', '--json', 'blocker/run.json');
    expect(code).toBe(2);
    expect(stderr).toContain(`error: cannot write ${join(dir, 'blocker/run.json')}: ${join(dir, 'blocker')} is not a folder\n`);
    expect(apis.seen).toHaveLength(0);
  });
});
