/**
 * Where exported spans go: a file of OTLP JSON lines (the OpenTelemetry Collector's file
 * exporter format, one `{ resourceSpans }` object per batch), or an OTLP/HTTP endpoint.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NO_REDACTION, type Redactor } from '../secrets.js';
import { openWhole, type WholeFile } from '../write-whole.js';

type ExportCallback = Parameters<SpanExporter['export']>[1];

/** ExportResultCode of @opentelemetry/core. */
const SUCCESS = 0;
const FAILED = 1;

/**
 * Writes each batch as one line of OTLP JSON, as the Collector's file exporter does, to a
 * temporary file that replaces `file` whole at shutdown (a failed write leaves no partial file).
 * The file is opened at the first batch: a run that ends before any span (refused before it
 * started) leaves an existing file as it was, and makes no folder.
 */
export class OtlpJsonFileExporter implements SpanExporter {
  private out: WholeFile | undefined;
  private failed = false;

  constructor(
    private readonly file: string,
    private readonly redactor: Redactor = NO_REDACTION,
  ) {}

  export(spans: ReadableSpan[], done: ExportCallback): void {
    try {
      if (this.failed) throw new Error('an earlier batch could not be written');
      const body = JsonTraceSerializer.serializeRequest(spans);
      if (body) (this.out ??= openWhole(this.file, this.redactor)).write(`${new TextDecoder().decode(body)}\n`);
      done({ code: SUCCESS });
    } catch (error) {
      this.failed = true;
      this.out?.abort();
      done({ code: FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    try {
      if (!this.failed) this.out?.commit();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    } finally {
      this.out?.abort();
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An OTLP/HTTP (JSON) exporter. A URL with no path gets the traces path `/v1/traces`,
 * as an OTLP base endpoint does; any other URL is used as it is.
 */
export function createOtlpHttpExporter(endpoint: string, headers?: Record<string, string>): SpanExporter {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return new OTLPTraceExporter({ url: url.toString(), ...(headers ? { headers } : {}) });
}

/**
 * Wraps an exporter to remember its failures, which the batch processor would drop
 * silently. A failed batch is counted and reported to the processor as exported: the
 * processor flushes batches in parallel and stops at the first failure, so passing the
 * failure on would leave later batches unsent and uncounted.
 */
export class FailureRecordingExporter implements SpanExporter {
  private spans = 0;
  private settled = 0;
  private lost = 0;
  private readonly errors = new Set<string>();

  constructor(
    private readonly inner: SpanExporter,
    private readonly label: string,
  ) {}

  export(spans: ReadableSpan[], done: ExportCallback): void {
    this.spans += spans.length;
    this.inner.export(spans, (result) => {
      this.settled += spans.length;
      if (result.code !== SUCCESS) {
        this.lost += spans.length;
        this.errors.add(result.error?.message ?? 'export failed');
      }
      done({ code: SUCCESS });
    });
  }

  /**
   * What failed, in one line: the label, the errors, how many of the spans given were lost
   * and how many were still being sent (the processor gave up waiting). Empty when none.
   */
  get failures(): string[] {
    const unsettled = this.spans - this.settled;
    if (this.lost === 0 && unsettled === 0) return [];
    const errors = this.lost > 0 ? [...this.errors].join('; ') : 'export not finished';
    return [`${this.label}: ${errors} (${this.lost} of ${this.spans} span(s) lost${unsettled > 0 ? `, ${unsettled} not confirmed` : ''})`];
  }

  /** A failure to finish (a file that could not be committed) is a failure like a lost batch. */
  async shutdown(): Promise<void> {
    try {
      await this.inner.shutdown();
    } catch (error) {
      this.lost = this.spans;
      this.settled = this.spans;
      this.errors.add((error as Error).message);
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Passes spans on with the run's secrets redacted from their name, attributes, events, links
 * and status, so that no exporter (file or endpoint) sends a key a provider echoed. Each span
 * is a view over the original, which the SDK still owns.
 */
export class RedactingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly redactor: Redactor,
  ) {}

  export(spans: ReadableSpan[], done: ExportCallback): void {
    this.inner.export(spans.map((span) => this.redacted(span)), done);
  }

  private redacted(span: ReadableSpan): ReadableSpan {
    const r = this.redactor;
    const view = Object.create(span) as ReadableSpan;
    const own = (key: keyof ReadableSpan, value: unknown) => Object.defineProperty(view, key, { value, enumerable: true });
    own('name', r.text(span.name));
    own('attributes', r.value({ ...span.attributes }));
    own('events', span.events.map((e) => ({ ...e, name: r.text(e.name), ...(e.attributes ? { attributes: r.value({ ...e.attributes }) } : {}) })));
    own('links', span.links.map((l) => ({ ...l, ...(l.attributes ? { attributes: r.value({ ...l.attributes }) } : {}) })));
    own('status', { ...span.status, ...(span.status.message !== undefined ? { message: r.text(span.status.message) } : {}) });
    return view;
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
