/**
 * Where exported spans go: a file of OTLP JSON lines (the OpenTelemetry Collector's file
 * exporter format, one `{ resourceSpans }` object per batch), or an OTLP/HTTP endpoint.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

type ExportCallback = Parameters<SpanExporter['export']>[1];

/** ExportResultCode of @opentelemetry/core. */
const SUCCESS = 0;
const FAILED = 1;

/** Writes each batch as one line of OTLP JSON, as the Collector's file exporter does. The file is emptied first. */
export class OtlpJsonFileExporter implements SpanExporter {
  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '');
  }

  export(spans: ReadableSpan[], done: ExportCallback): void {
    try {
      const body = JsonTraceSerializer.serializeRequest(spans);
      if (body) appendFileSync(this.file, `${new TextDecoder().decode(body)}\n`);
      done({ code: SUCCESS });
    } catch (error) {
      done({ code: FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
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

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
