import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedactor } from './secrets.js';
import { openWhole, writeWhole, WriteError } from './write-whole.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-whole-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeWhole', () => {
  it('writes the text (redacted), creating the folder, and leaves no temporary file', () => {
    const file = join(dir, 'a/b/out.txt');
    writeWhole(file, 'key=secret-value-123\n', createRedactor([{ name: 'K', value: 'secret-value-123' }]));
    expect(readFileSync(file, 'utf8')).toBe('key=[redacted:K]\n');
    expect(readdirSync(join(dir, 'a/b'))).toEqual(['out.txt']);
  });

  it('keeps the old file when what produces the text throws, and removes the temporary file', () => {
    const file = join(dir, 'kept.json');
    writeFileSync(file, 'old');
    expect(() =>
      writeWhole(file, (write) => {
        write('{"new": ');
        throw new Error('the results could not be read');
      }),
    ).toThrow('the results could not be read');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('fails with a WriteError naming the path and the system message when the target is a folder', () => {
    const target = join(dir, 'folder');
    mkdirSync(target);
    let error: unknown;
    try {
      writeWhole(target, 'text');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).message).toBe(`cannot write ${target}: EISDIR: illegal operation on a directory`);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an aborted file leaves nothing, and cannot be written or committed afterwards', () => {
    const file = join(dir, 'aborted.txt');
    const out = openWhole(file);
    out.write('half');
    out.abort();
    expect(() => out.commit()).toThrow(WriteError);
    expect(readdirSync(dir).filter((f) => f.startsWith('.aborted') || f === 'aborted.txt')).toEqual([]);
  });
});
