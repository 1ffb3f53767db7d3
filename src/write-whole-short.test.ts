import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Short writes, as a nearly full disk gives them: at most `take` bytes a call, and none once `room` is used up.
const limits = vi.hoisted(() => ({ take: 5, room: Infinity }));
vi.mock('node:fs', async () => {
  const fs = await vi.importActual<typeof import('node:fs')>('node:fs');
  const writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
    const at = offset ?? 0;
    const n = Math.max(0, Math.min(length ?? buffer.length - at, limits.take, limits.room));
    limits.room -= n;
    return n === 0 ? 0 : fs.writeSync(fd, buffer, at, n);
  }) as unknown as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { writeWhole, WriteError } = await import('./write-whole.js');
const dir = mkdtempSync(join(tmpdir(), 'sg-short-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => Object.assign(limits, { take: 5, room: Infinity }));

describe('writeWhole with short writes', () => {
  it('writes every byte when each write takes only part of them', () => {
    const file = join(dir, 'whole.json');
    const text = `${JSON.stringify({ traces: Array.from({ length: 50 }, (_, i) => `t-${i}-é`) })}\n`;
    writeWhole(file, text);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('fails as a full disk, keeping the old file, when a write takes nothing: never a shorter file in its place', () => {
    const file = join(dir, 'kept.json');
    writeFileSync(file, 'old');
    limits.room = 12;
    expect(() => writeWhole(file, 'x'.repeat(100))).toThrow(WriteError);
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
