import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Issue } from '../errors.js';
import { TraceSchema, type Trace } from './schema.js';
import { zodIssues } from './zod-issues.js';

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
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    const parsed = parseTraceLine(line === 1 ? text.replace(/^\uFEFF/, '') : text, file, line);
    if (parsed) yield parsed;
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
  const parsed = TraceSchema.safeParse(raw, { error: (issue) => (issue.input === undefined ? 'required' : undefined) });
  if (!parsed.success) return { ok: false, file, line, issues: zodIssues(parsed.error, file, line) };
  return { ok: true, file, line, trace: parsed.data };
}
