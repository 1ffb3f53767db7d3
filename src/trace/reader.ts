import { open } from 'node:fs/promises';
import { InputError, type Issue } from '../errors.js';
import { systemMessage } from '../write-whole.js';
import { fastTrace } from './fast-check.js';
import { MAX_TRACE_DEPTH, TraceSchema, type Trace } from './schema.js';
import { formatPath, zodIssues } from './zod-issues.js';

export type TraceLine =
  | { ok: true; file: string; line: number; trace: Trace }
  | { ok: false; file: string; line: number; issues: Issue[] };

/**
 * Streams the traces of one JSONL file, one line at a time: the file is never
 * held in memory whole. A line that is not valid JSON or not a valid trace is
 * yielded as issues with its line number, and reading goes on.
 * Blank lines are skipped.
 */
export async function* readTraceFile(file: string): AsyncGenerator<TraceLine> {
  let line = 0;
  try {
    for await (const text of readLines(file)) {
      line++;
      const parsed = parseTraceLine(line === 1 ? text.replace(/^\uFEFF/, '') : text, file, line);
      if (parsed) yield parsed;
    }
  } catch (error) {
    throw unreadableTraceFile(file, error);
  }
}

/** A trace file the system could not read (gone or failing since it was found): an input error naming it. */
export class UnreadableTraceFile extends InputError {}

/** The system's failure to read `file` as an `UnreadableTraceFile`; any other error (not the system's) as it is. */
export function unreadableTraceFile(file: string, cause: unknown): unknown {
  if (!(cause as NodeJS.ErrnoException | undefined)?.syscall) return cause;
  return new UnreadableTraceFile([{ file, message: `could not be read (${systemMessage(cause)})` }]);
}

/** Bytes read at a time; a longer line grows the buffer to hold it. */
const CHUNK_BYTES = 1 << 20;

/**
 * The lines of a file as JSONL has them: ended by `\n` or `\r\n` (a lone `\r` is whitespace,
 * as in JSON), the last one with or without an end. Read in large chunks and cut at the newline
 * bytes, each line decoded on its own (a newline byte is never part of a multi-byte character).
 */
export async function* readLines(file: string, chunkBytes = CHUNK_BYTES): AsyncGenerator<string> {
  // A buffer of no bytes would read nothing, and end at once as if the file were empty.
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a whole number of at least 1, not ${chunkBytes}`);
  const handle = await open(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(chunkBytes);
    let start = 0; // the first byte of the line not yet yielded
    let end = 0; // the end of what was read
    for (;;) {
      if (end === buf.length) {
        // Room for more of the current line: moved to the front, or a larger buffer when it fills this one.
        const next = start === 0 ? Buffer.allocUnsafe(buf.length * 2) : buf;
        buf.copy(next, 0, start, end);
        end -= start;
        start = 0;
        buf = next;
      }
      const { bytesRead } = await handle.read(buf, end, buf.length - end, null);
      if (bytesRead === 0) break;
      let from = end;
      end += bytesRead;
      for (let newline = buf.indexOf(10, from); newline !== -1 && newline < end; newline = buf.indexOf(10, from)) {
        yield buf.toString('utf8', start, newline > start && buf[newline - 1] === 13 ? newline - 1 : newline);
        start = from = newline + 1;
      }
    }
    if (start < end) yield buf.toString('utf8', start, end);
  } finally {
    await handle.close();
  }
}

/** Parses one JSONL line; returns undefined for a blank line. */
export function parseTraceLine(text: string, file: string, line: number): TraceLine | undefined {
  if (text.trim() === '') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, file, line, issues: [{ file, line, message: `invalid JSON: ${(error as Error).message}` }] };
  }
  const deep = tooDeep(text, raw, MAX_TRACE_DEPTH);
  if (deep) {
    const shown = deep.length > 8 ? `${formatPath(deep.slice(0, 8))}.…` : formatPath(deep);
    const message = `nested deeper than ${MAX_TRACE_DEPTH} levels of arrays and objects (the limit of a trace)${deep.length > 8 ? `; the path goes on for ${deep.length - 8} more keys` : ''}`;
    return { ok: false, file, line, issues: [{ file, line, path: shown, message }] };
  }
  // The compiled check first; zod, for its located messages, only on a line it does not accept.
  const fast = fastTrace(raw);
  if (fast) return { ok: true, file, line, trace: fast };
  const parsed = TraceSchema.safeParse(raw, { error: (issue) => (issue.input === undefined ? 'required' : undefined) });
  if (!parsed.success) return { ok: false, file, line, issues: zodIssues(parsed.error, file, line) };
  return { ok: true, file, line, trace: parsed.data };
}

/**
 * The path of the first value (in document order) nested deeper than `limit` levels, or
 * undefined. The text, valid JSON, is scanned first, without allocating, since almost every
 * line is shallow; only a line that is too deep is walked, without recursion, for the path.
 */
export function tooDeep(text: string, value: unknown, limit: number): (string | number)[] | undefined {
  if (!exceedsDepth(text, limit)) return undefined;
  type Frame = { value: unknown; level: number; key: string | number | null; parent: Frame | null };
  const stack: Frame[] = [{ value, level: 1, key: null, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.value === null || typeof frame.value !== 'object') continue;
    if (frame.level > limit) {
      const path: (string | number)[] = [];
      for (let f: Frame | null = frame; f !== null && f.key !== null; f = f.parent) path.unshift(f.key);
      return path;
    }
    const entries: [string | number, unknown][] = Array.isArray(frame.value) ? frame.value.map((v, i) => [i, v]) : Object.entries(frame.value);
    // Pushed last first, so that the first key is walked first.
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], level: frame.level + 1, key: entries[i]![0], parent: frame });
  }
  return undefined;
}

/** Whether valid JSON text opens more than `limit` arrays and objects inside one another. */
function exceedsDepth(text: string, limit: number): boolean {
  // Nesting is at most the number of brackets opened (in strings or not), counted with the native
  // search: almost every line opens fewer than `limit` and needs no scan character by character.
  if (opened(text, '{', limit) + opened(text, '[', limit) <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** How many times `bracket` occurs in `text`, counted up to `limit` + 1. */
function opened(text: string, bracket: string, limit: number): number {
  let count = 0;
  for (let at = text.indexOf(bracket); at !== -1 && count <= limit; at = text.indexOf(bracket, at + 1)) count++;
  return count;
}
