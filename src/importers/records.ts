import { parseDocument } from 'yaml';
import type { Issue } from '../errors.js';

/** One record of an input file, with where it came from. */
export interface SourceRecord {
  value: unknown;
  /** 1-based index among the file's records. */
  index: number;
  /** The line, for JSON Lines. */
  line?: number;
  /** The record's key path in a JSON document holding an array of records (`3`); empty otherwise. */
  path: string;
}

/**
 * The records of a file: a JSON document (an array of records, or one record) or JSON
 * Lines (one record a line, blank lines skipped). A line that is not JSON is an issue
 * with its line number, and the other lines still count. An empty file has no records.
 * `isRecordList` tells an array of records from an array that is itself one record (a
 * bare list of messages).
 */
export function readRecords(text: string, file: string, isRecordList: (array: unknown[]) => boolean = () => true): { records: SourceRecord[]; issues: Issue[] } {
  const body = text.replace(/^\uFEFF/, '');
  const whole = parseJson(body);
  if (whole.ok) {
    const list = Array.isArray(whole.value) && isRecordList(whole.value);
    const values = list ? (whole.value as unknown[]) : [whole.value];
    return { records: values.map((value, i) => ({ value, index: i + 1, path: list ? String(i) : '' })), issues: [] };
  }
  const lines = body.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  // An empty file holds no records: that is not a problem (the caller says that nothing was imported).
  if (first === -1) return { records: [], issues: [] };
  // One document that does not parse (a JSON file with a syntax error) is reported once, where it broke.
  if (!parseJson(lines[first]!).ok) {
    return { records: [], issues: [{ file, ...withLine(lineAt(body, whole.error)), message: `invalid JSON: ${whole.error.message}` }] };
  }
  const records: SourceRecord[] = [];
  const issues: Issue[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const parsed = parseJson(raw);
    if (parsed.ok) records.push({ value: parsed.value, index: records.length + 1, line: i + 1, path: '' });
    else issues.push({ file, line: i + 1, message: `invalid JSON: ${parsed.error.message}` });
  });
  return { records, issues };
}

/** A string read as JSON where it is JSON (numbers, booleans and `null` too), else kept as text; any other value as it is. */
export function jsonOrText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const parsed = parseJson(value);
  return parsed.ok ? parsed.value : value;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: Error } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/**
 * The line a JSON document broke at: from the `position N` of JSON.parse's message where
 * it gives one (newer Node), else where a YAML parser (JSON is YAML) first stumbles.
 */
function lineAt(text: string, error: Error): number | undefined {
  const position = /position (\d+)/.exec(error.message)?.[1];
  if (position !== undefined) return text.slice(0, Number(position)).split('\n').length;
  return parseDocument(text).errors[0]?.linePos?.[0].line;
}

const withLine = (line: number | undefined) => (line === undefined ? {} : { line });

/** A located issue inside a record: `path` is relative to the record. */
export function recordIssue(file: string, record: SourceRecord, path: string, message: string): Issue {
  const full = [record.path, path].filter((p) => p !== '').join('.');
  return { file, ...withLine(record.line), ...(full ? { path: full } : {}), message };
}

/** Zod's error option for outside records: a missing field reads `required`, as in trace files. */
export const requiredField = { error: (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : undefined) };
