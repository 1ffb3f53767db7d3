import type { z } from 'zod';
import { TRACE_SCHEMA_ID, type Trace } from '../trace/schema.js';
import { formatPath } from '../trace/zod-issues.js';
import type { OtherFormat } from './format-signs.js';
import { conversationOutcome, firstUserContent, joinCalls, replayability, stepsOf, type Conversation } from './conversation.js';
import { readRecords, recordIssue, requiredField, type SourceRecord } from './records.js';
import type { ImportOptions, ImportResult } from './types.js';

/** A conversation as one record shape gives it. */
export interface ReadConversation extends Conversation {
  model?: string;
  id?: string;
  metadata?: Record<string, unknown>;
}

/** One shape a record of a message log may take, told apart by its key. */
export interface RecordShape {
  /** The key that marks the shape: `messages` (a conversation) or `request` (one logged call). */
  key: 'messages' | 'request';
  schema: z.ZodType;
  /** Reads what the schema parsed (each shape types its own record, hence `never` here). */
  read: (record: never) => ReadConversation;
}

/** The file name without folders and `.json` / `.jsonl`: the default workflow and id prefix. */
export function fileStem(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/\.jsonl?$/i, '') || 'imported';
}

/**
 * The shared path of the message-log importers: records (a JSON document or JSON Lines),
 * each read by the shape its key names (a bare array of messages is a `messages` record),
 * logged calls of one conversation joined, each conversation one trace. A record that does
 * not fit is an issue with its line and path, and the rest still import; one with a field
 * of the other provider's format is one issue that names that format. Pure.
 */
export function importConversations(text: string, options: ImportOptions, format: { format: string; label: string; shapes: readonly RecordShape[]; other: OtherFormat }): ImportResult {
  const { records, issues } = readRecords(text, options.file, (array) => !isMessage(array[0]));
  const read: (ReadConversation & { record: SourceRecord; bare: boolean })[] = [];
  for (const record of records) {
    const bare = Array.isArray(record.value);
    const value = bare ? { messages: record.value } : record.value;
    const at = (path: string, message: string) => issues.push(recordIssue(options.file, record, bare ? path.replace(/^messages\.?/, '') : path, message));
    // A record of the other provider's format is said to be one, not listed as schema errors (or read with its tool calls lost).
    const sign = format.other.sign(value);
    if (sign) {
      at(sign.path, `${sign.what} belongs to ${format.other.label}, not ${format.label}: import the file with \`shadowgate import ${format.other.name}\``);
      continue;
    }
    const shape = format.shapes.find((s) => value !== null && typeof value === 'object' && s.key in value);
    if (!shape) {
      at('', `not a conversation: expected ${format.shapes.map((s) => `\`${s.key}\``).join(' or ')}`);
      continue;
    }
    const parsed = shape.schema.safeParse(value, requiredField);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) at(formatPath(issue.path), issue.message);
      continue;
    }
    read.push({ ...shape.read(parsed.data as never), record, bare });
  }

  const traces: Trace[] = [];
  const ids = new Map<string, number>();
  for (const { conversation, joined } of joinCalls(read)) {
    const { record, bare } = conversation;
    const report = (path: string, message: string) => issues.push(recordIssue(options.file, record, bare ? path.replace(/^messages\.?/, '') : path, message));
    const first = joined[0] ?? conversation;
    const model = conversation.model ?? first.model ?? options.model;
    if (!model && conversation.turns.some((t) => t.kind === 'model' && !t.model)) {
      report('', 'the record names no model: pass --model');
      continue;
    }
    const id = first.id ?? conversation.id ?? `${fileStem(options.file)}-${first.record.index}`;
    if (ids.has(id)) {
      report('', `trace id ${id} is already used by record ${ids.get(id)}; left out`);
      continue;
    }
    ids.set(id, record.index);
    const outcome = conversationOutcome(conversation.turns);
    const { steps, notReplayable } = stepsOf(conversation.turns, model ?? '', report);
    traces.push({
      schema: TRACE_SCHEMA_ID,
      id,
      workflow: options.workflow ?? fileStem(options.file),
      ...(model ? { agent: { model } } : {}),
      input: firstUserContent(conversation.turns),
      steps,
      ...(outcome ? { outcome } : {}),
      metadata: {
        ...conversation.metadata,
        importedFrom: format.format,
        ...(joined.length ? { joinedCalls: joined.length + 1 } : {}),
        ...replayability(notReplayable),
      },
    });
  }
  return { traces, issues };
}

function isMessage(value: unknown): boolean {
  return value !== null && typeof value === 'object' && 'role' in value;
}
