import { resolve } from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createOtlpHttpExporter, FailureRecordingExporter, OtlpJsonFileExporter, RedactingExporter } from '../otel/exporters.js';
import { createRunTracer, startRunSpans, type RunSpans } from '../otel/run-spans.js';
import type { ResolvedSuite } from '../suite/load.js';
import { UsageError } from '../errors.js';
import { redactUrl } from '../providers/transport.js';
import { NO_REDACTION, type Redactor } from '../secrets.js';
import type { CliIo } from './io.js';
import { assertWritableFile } from './options.js';

export interface OtelFlags {
  otelFile?: string;
  otelEndpoint?: string;
}

export interface OtelExport {
  /** The run span of one suite; its results add their spans below it. */
  startRun(suite: ResolvedSuite): RunSpans;
  /** Flushes every span; export failures are written to stderr (they never fail the run). */
  shutdown(): Promise<void>;
}

/** `--otel-file` and `--otel-endpoint`: undefined when neither is given. Every span is exported with the run's secrets redacted. */
export function createOtelExport(io: CliIo, flags: OtelFlags, redactor: Redactor = NO_REDACTION): OtelExport | undefined {
  if (!flags.otelFile && !flags.otelEndpoint) return undefined;
  const exporters: FailureRecordingExporter[] = [];
  const add = (exporter: SpanExporter, label: string) => exporters.push(new FailureRecordingExporter(new RedactingExporter(exporter, redactor), label));
  if (flags.otelFile) {
    const file = resolve(io.cwd, flags.otelFile);
    assertWritableFile(file);
    add(new OtlpJsonFileExporter(file, redactor), flags.otelFile);
  }
  if (flags.otelEndpoint) {
    let exporter: SpanExporter;
    try {
      exporter = createOtlpHttpExporter(flags.otelEndpoint);
    } catch {
      throw new UsageError(`--otel-endpoint ${flags.otelEndpoint}: not a URL`, 'for example --otel-endpoint http://localhost:4318/v1/traces');
    }
    add(exporter, redactUrl(flags.otelEndpoint));
  }
  const { tracer, shutdown } = createRunTracer(exporters);
  return {
    startRun: (suite) =>
      startRunSpans(tracer, {
        suite: suite.name,
        candidate: suite.candidateLabel,
        phase: suite.phase,
        model: suite.candidate.kind === 'tool-loop' ? suite.candidate.model : null,
      }),
    async shutdown() {
      await shutdown();
      for (const failure of exporters.flatMap((e) => e.failures)) io.stderr.write(redactor.text(`warning: OpenTelemetry export to ${failure}\n`));
    },
  };
}
