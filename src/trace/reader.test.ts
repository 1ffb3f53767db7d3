import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aTrace } from '../testing/builders.js';
import { parseTraceLine, readLines, readTraceFile, tooDeep, UnreadableTraceFile, type TraceLine } from './reader.js';
import { MAX_TRACE_DEPTH } from './schema.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-reader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(file: string): Promise<TraceLine[]> {
  const lines: TraceLine[] = [];
  for await (const line of readTraceFile(file)) lines.push(line);
  return lines;
}

const good = (id: string) => aTrace(id).withInput({ order_id: id }).withToolCall('get_order', { order_id: id }, { total: 1 }).build();

describe('readTraceFile', () => {
  it('yields every valid line with its line number, skipping blank lines', async () => {
    const file = join(dir, 'ok.jsonl');
    const a = good('a');
    const b = good('b');
    await writeFile(file, `${JSON.stringify(a)}\n\n   \n${JSON.stringify(b)}\n`);
    expect(await readAll(file)).toEqual([
      { ok: true, file, line: 1, trace: a },
      { ok: true, file, line: 4, trace: b },
    ]);
  });

  it('reports each bad line with file, line and field path, and still yields the valid lines', async () => {
    const file = join(dir, 'mixed.jsonl');
    const valid = good('ok-1');
    const wrongType = { ...good('wrong-type'), steps: [{ type: 'tool', name: 'get_order', args: 'A1' }] };
    const { workflow: _w, ...missingField } = good('missing');
    const unknownKey = { ...good('unknown'), workflw: 'refund-triage' };
    const valid2 = good('ok-2');
    await writeFile(
      file,
      [
        JSON.stringify(valid), // 1
        '{"schema": "shadowgate.trace/v1", "id": ', // 2: bad JSON
        JSON.stringify(wrongType), // 3
        '', // 4: blank
        JSON.stringify(missingField), // 5
        JSON.stringify(unknownKey), // 6
        JSON.stringify(valid2), // 7
      ].join('\n'),
    );
    const lines = await readAll(file);
    expect(lines.map((l) => [l.line, l.ok])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [5, false],
      [6, false],
      [7, true],
    ]);
    const issues = lines.flatMap((l) => (l.ok ? [] : l.issues.map(({ message: _m, ...where }) => where)));
    expect(issues).toEqual([
      { file, line: 2 },
      { file, line: 3, path: 'steps.0.args' },
      { file, line: 5, path: 'workflow' },
      { file, line: 6, path: 'workflw' },
    ]);
    const messages = lines.flatMap((l) => (l.ok ? [] : l.issues.map((i) => i.message)));
    expect(messages[0]).toMatch(/^invalid JSON: /);
    expect(messages[3]).toBe('unknown key');
    expect(lines.flatMap((l) => (l.ok ? [l.trace.id] : []))).toEqual(['ok-1', 'ok-2']);
  });

  it('yields nothing for an empty file', async () => {
    const file = join(dir, 'empty.jsonl');
    await writeFile(file, '');
    expect(await readAll(file)).toEqual([]);
  });

  it('reads CRLF line endings', async () => {
    const file = join(dir, 'crlf.jsonl');
    const a = good('a');
    await writeFile(file, `${JSON.stringify(a)}\r\n${JSON.stringify(good('b'))}\r\n`);
    expect((await readAll(file)).map((l) => (l.ok ? [l.line, l.trace.id] : [l.line, 'error']))).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('reads a lone CR between JSON tokens as the whitespace it is: one trace on its line, the next line keeps its number', async () => {
    const file = join(dir, 'cr.jsonl');
    const a = good('a');
    await writeFile(file, `${JSON.stringify(a).replace('"workflow":', '\r"workflow":')}\n${JSON.stringify(good('b'))}\n`);
    expect((await readAll(file)).map((l) => (l.ok ? [l.line, l.trace.id] : [l.line, 'error']))).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('fails as reading the file fails: a missing file, a folder', async () => {
    await expect(readAll(join(dir, 'missing.jsonl'))).rejects.toThrow(/ENOENT/);
    await expect(readAll(dir)).rejects.toThrow(/EISDIR/);
    // As an input error naming the file (exit 2 for every command that reads traces), not the system's raw error.
    await expect(readAll(join(dir, 'missing.jsonl'))).rejects.toThrow(UnreadableTraceFile);
    await expect(readAll(join(dir, 'missing.jsonl'))).rejects.toThrow(`invalid input:\n  ${join(dir, 'missing.jsonl')}: could not be read (ENOENT: no such file or directory)`);
  });
});

describe('readLines', () => {
  const linesOf = async (file: string, chunkBytes: number) => {
    const out: string[] = [];
    for await (const line of readLines(file, chunkBytes)) out.push(line);
    return out;
  };

  it('cuts lines at LF and CRLF only, whatever the chunks: multi-byte characters, a CRLF and lines longer than a chunk cut across them', async () => {
    const file = join(dir, 'lines.jsonl');
    const lines = ['{"a":"héllo wörld ✓ 𝄞"}', '', '{"b":\r1}', 'x'.repeat(50), '   ', '{"c":"日本語のテキスト"}', 'last, with no end'];
    const text = `${lines[0]}\r\n${lines[1]}\n${lines[2]}\n${lines[3]}\r\n${lines[4]}\n${lines[5]}\n${lines[6]}`;
    await writeFile(file, text);
    // Every chunk size from 1 byte (each character, CRLF and line cut everywhere) to more than the file.
    for (const chunk of [1, 2, 3, 5, 7, 16, 64, 4096]) expect(await linesOf(file, chunk)).toEqual(lines);
  });

  it('gives no empty line after a last newline, and none for an empty file', async () => {
    const file = join(dir, 'end.jsonl');
    await writeFile(file, 'a\nb\r\n');
    expect(await linesOf(file, 3)).toEqual(['a', 'b']);
    await writeFile(file, '');
    expect(await linesOf(file, 3)).toEqual([]);
  });

  it('refuses a chunk of no bytes rather than reading a file as empty', async () => {
    const file = join(dir, 'some.jsonl');
    await writeFile(file, 'a\n');
    await expect(linesOf(file, 0)).rejects.toThrow(RangeError);
  });
});

describe('parseTraceLine', () => {
  it('returns undefined for a blank line', () => {
    expect(parseTraceLine('  \t', 'f.jsonl', 3)).toBeUndefined();
  });

  it('names every unknown key separately', () => {
    const line = parseTraceLine(JSON.stringify({ ...good('x'), foo: 1, bar: 2 }), 'f.jsonl', 9);
    expect(line).toEqual({
      ok: false,
      file: 'f.jsonl',
      line: 9,
      issues: [
        { file: 'f.jsonl', line: 9, path: 'foo', message: 'unknown key' },
        { file: 'f.jsonl', line: 9, path: 'bar', message: 'unknown key' },
      ],
    });
  });
});

describe('byte-order mark', () => {
  it('reads a file that starts with a UTF-8 BOM', async () => {
    const file = join(dir, 'bom.jsonl');
    await writeFile(file, `\uFEFF${JSON.stringify({ schema: 'shadowgate.trace/v1', id: 'a', workflow: 'w', input: {}, steps: [] })}\n`);
    const lines: TraceLine[] = [];
    for await (const line of readTraceFile(file)) lines.push(line);
    expect(lines.map((l) => l.ok)).toEqual([true]);
  });
});

/** `{ a: { a: … { a: 1 } } }`: `levels` objects inside one another. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('the depth limit of a trace', () => {
  // The trace is level 1 and its input level 2: input may hold MAX_TRACE_DEPTH - 1 levels.
  const withInput = (input: unknown) => JSON.stringify({ ...good('deep'), input });

  it('reads a trace nested exactly to the limit', () => {
    expect(parseTraceLine(withInput(nested(MAX_TRACE_DEPTH - 1)), 'f.jsonl', 1)?.ok).toBe(true);
  });

  it('refuses a trace one level deeper, at the path of the first value too deep, before the schema is checked', () => {
    const text = withInput(nested(MAX_TRACE_DEPTH)).replace('"workflow":', '"workflw":');
    const line = parseTraceLine(text, 'f.jsonl', 3);
    const path = ['input', ...Array.from({ length: MAX_TRACE_DEPTH - 1 }, () => 'a')];
    expect(line).toEqual({
      ok: false,
      file: 'f.jsonl',
      line: 3,
      issues: [{ file: 'f.jsonl', line: 3, path: `${path.slice(0, 8).join('.')}.…`, message: `nested deeper than ${MAX_TRACE_DEPTH} levels of arrays and objects (the limit of a trace); the path goes on for ${path.length - 8} more keys` }],
    });
  });

  it('refuses a trace nested 10,000 levels deep with a located issue, not a stack overflow', () => {
    // Written out as text: JSON.stringify itself would run out of stack on it.
    const text = withInput({ list: ['DEEP'] }).replace('"DEEP"', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);
    const line = parseTraceLine(text, 'f.jsonl', 1);
    expect(line?.ok).toBe(false);
    expect(line?.ok === false && line.issues.map((i) => i.path)).toEqual(['input.list.0.a.a.a.a.a.…']);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const brackets = `\\"${'[{'.repeat(2 * MAX_TRACE_DEPTH)}`;
    expect(parseTraceLine(withInput({ text: brackets }), 'f.jsonl', 1)?.ok).toBe(true);
  });

  it('finds the first value too deep in document order', () => {
    const both = { first: [[[1]]], second: { b: { c: {} } } };
    expect(tooDeep(JSON.stringify(both), both, 3)).toEqual(['first', 0, 0]);
    const second = { first: [[1]], second: { b: { c: {} } } };
    expect(tooDeep(JSON.stringify(second), second, 3)).toEqual(['second', 'b', 'c']);
    expect(tooDeep(JSON.stringify(second), second, 4)).toBeUndefined();
    // More brackets than the limit, none of them deep: looked at character by character, and let through.
    const wide = { many: Array.from({ length: 10 }, (_, i) => ({ i, list: [i] })) };
    expect(tooDeep(JSON.stringify(wide), wide, 4)).toBeUndefined();
    const deepAfterWide = { ...wide, last: { a: { b: { c: { d: 1 } } } } };
    expect(tooDeep(JSON.stringify(deepAfterWide), deepAfterWide, 4)).toEqual(['last', 'a', 'b', 'c']);
  });
});
