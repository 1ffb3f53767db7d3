/**
 * Reading OTLP JSON trace data: one `ExportTraceServiceRequest` object
 * (`{ resourceSpans: [...] }`, as an OTLP/HTTP JSON request body holds it) or JSON Lines of
 * them (as the OpenTelemetry Collector's file exporter writes them). Pure: text in, spans out.
 */
import type { Issue } from '../errors.js';
import { readRecords } from '../importers/records.js';

/** An OTLP `AnyValue` as JSON: 64-bit integers may be strings. */
export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number | string;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}

export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

/** A span's status code: the enum's number or, from some writers, its name. */
type OtlpStatusCode = number | 'STATUS_CODE_UNSET' | 'STATUS_CODE_OK' | 'STATUS_CODE_ERROR';

/** A span read from OTLP JSON, its attributes decoded to plain values. */
export interface FlatSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** Nanoseconds since the epoch; null when the span has no valid time. */
  startNs: bigint | null;
  endNs: bigint | null;
  attributes: Record<string, unknown>;
  /** The attributes of the span's resource (service.name, ...). */
  resource: Record<string, unknown>;
  events: { name: string; timeNs: bigint | null; attributes: Record<string, unknown> }[];
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  /** Where it was read: the line (JSON Lines) and the JSON path, for issues. */
  line?: number;
  path: string;
  /** Its position in the file, to keep the file's order where start times tie. */
  order: number;
}

/** Decodes an `AnyValue` to a plain JSON value (intValue as a number, kvlist as an object). */
export function decodeAnyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value || typeof value !== 'object') return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decodeAnyValue);
  if (value.kvlistValue !== undefined) return decodeAttributes(value.kvlistValue.values);
  return null;
}

export function decodeAttributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of Array.isArray(list) ? list : []) if (kv && typeof kv.key === 'string') out[kv.key] = decodeAnyValue(kv.value);
  return out;
}

/**
 * Trace and span ids are hex in OTLP JSON; the protobuf JSON mapping writes them as
 * base64, which some tools emit: both are read, as lower-case hex.
 */
export function normaliseId(id: unknown, bytes: 8 | 16): string | null {
  if (typeof id !== 'string' || id === '') return null;
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(id)) return id.toLowerCase();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(id)) {
    const raw = Buffer.from(id, 'base64');
    if (raw.length === bytes) return raw.toString('hex');
  }
  return null;
}

function nanos(value: unknown): bigint | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return BigInt(Math.trunc(value));
  if (typeof value === 'string' && /^\d+$/.test(value) && value !== '0') return BigInt(value);
  return null;
}

function statusOf(status: { code?: OtlpStatusCode; message?: string } | undefined): FlatSpan['status'] {
  const code = status?.code;
  const name = code === 1 || code === 'STATUS_CODE_OK' ? 'ok' : code === 2 || code === 'STATUS_CODE_ERROR' ? 'error' : 'unset';
  return status?.message ? { code: name, message: status.message } : { code: name };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The spans of one `{ resourceSpans }` object; what cannot be read becomes an issue. */
function spansOfDocument(doc: unknown, file: string, line: number | undefined, first: number, issues: Issue[]): FlatSpan[] {
  const spans: FlatSpan[] = [];
  if (!isObject(doc) || !Array.isArray(doc.resourceSpans)) {
    issues.push({ file, line, path: 'resourceSpans', message: 'not OTLP JSON trace data: expected an object with a resourceSpans array' });
    return spans;
  }
  doc.resourceSpans.forEach((rs: unknown, r) => {
    if (!isObject(rs)) return;
    const resource = decodeAttributes(isObject(rs.resource) ? (rs.resource.attributes as OtlpKeyValue[]) : undefined);
    // `instrumentationLibrarySpans` is the name older OTLP versions used for scopeSpans.
    const scopes = (rs.scopeSpans ?? rs.instrumentationLibrarySpans) as unknown;
    (Array.isArray(scopes) ? scopes : []).forEach((ss: unknown, s) => {
      if (!isObject(ss) || !Array.isArray(ss.spans)) return;
      ss.spans.forEach((raw: unknown, i) => {
        const path = `resourceSpans.${r}.scopeSpans.${s}.spans.${i}`;
        if (!isObject(raw)) return void issues.push({ file, line, path, message: 'a span must be an object' });
        const traceId = normaliseId(raw.traceId, 16);
        const spanId = normaliseId(raw.spanId, 8);
        if (!traceId || !spanId) {
          issues.push({ file, line, path: `${path}.${traceId ? 'spanId' : 'traceId'}`, message: `missing or malformed ${traceId ? 'spanId' : 'traceId'}; the span is skipped` });
          return;
        }
        const events = Array.isArray(raw.events) ? raw.events.filter(isObject) : [];
        spans.push({
          traceId,
          spanId,
          parentSpanId: normaliseId(raw.parentSpanId, 8),
          name: typeof raw.name === 'string' ? raw.name : '',
          startNs: nanos(raw.startTimeUnixNano),
          endNs: nanos(raw.endTimeUnixNano),
          attributes: decodeAttributes(raw.attributes as OtlpKeyValue[]),
          resource,
          events: events.map((e) => ({ name: String(e.name ?? ''), timeNs: nanos(e.timeUnixNano), attributes: decodeAttributes(e.attributes as OtlpKeyValue[]) })),
          status: statusOf(raw.status as { code?: OtlpStatusCode; message?: string } | undefined),
          ...(line !== undefined ? { line } : {}),
          path,
          order: first + spans.length,
        });
      });
    });
  });
  return spans;
}

/**
 * Every span of an OTLP JSON file: a single object (pretty-printed or not) or JSON Lines
 * of objects. A line that is not JSON, or not trace data, is an issue; the others still count.
 */
export function readOtlpJson(text: string, file: string): { spans: FlatSpan[]; issues: Issue[] } {
  // An array is not a list of requests: it is not trace data, and is reported as such.
  const { records, issues } = readRecords(text, file, () => false);
  // A file of one line is JSON Lines of one line as well: its spans are located by that line.
  const lines = text.split('\n').flatMap((l, i) => (l.trim() === '' ? [] : [i + 1]));
  const spans: FlatSpan[] = [];
  for (const record of records) spans.push(...spansOfDocument(record.value, file, record.line ?? (lines.length === 1 ? lines[0] : undefined), spans.length, issues));
  return { spans, issues };
}
