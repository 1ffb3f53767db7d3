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

/** Wraps an exporter to remember its failures: the batch processor would otherwise drop them silently. */
export class FailureRecordingExporter implements SpanExporter {
  readonly failures: string[] = [];

  constructor(
    private readonly inner: SpanExporter,
    private readonly label: string,
  ) {}

  export(spans: ReadableSpan[], done: ExportCallback): void {
    this.inner.export(spans, (result) => {
      if (result.code !== SUCCESS) this.failures.push(`${this.label}: ${result.error?.message ?? 'export failed'} (${spans.length} span(s) lost)`);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
