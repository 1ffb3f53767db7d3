import { API_KEY_ENV } from '../providers/registry.js';
import { createRedactor, secretsFromEnv, secretsInUrl, type Redactor } from '../secrets.js';
import type { ResolvedSuite } from '../suite/load.js';

/** The variables that carry OTLP headers (an exporter's credentials), which the OpenTelemetry exporter reads. */
export const OTLP_HEADER_ENV = ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'] as const;

/**
 * The variables whose values a run holds as secrets: the provider keys, every `apiKeyEnv`
 * the suites name (a candidate's own or the one of a `compare` candidate), and the OTLP headers.
 */
export function secretEnvNames(suites: readonly Pick<ResolvedSuite, 'candidate'>[]): string[] {
  const named = suites.flatMap((s) => (s.candidate.kind !== 'recorded' && s.candidate.apiKeyEnv ? [s.candidate.apiKeyEnv] : []));
  return [...new Set([...Object.values(API_KEY_ENV), ...named, ...OTLP_HEADER_ENV])];
}

/**
 * The run-wide Redactor: built once from the values of `secretEnvNames` in `env` and the
 * credentials of an OTLP endpoint URL and of a database URL (`--db`, else SHADOWGATE_DB), and
 * applied wherever the run writes.
 */
export function runRedactor(env: Record<string, string | undefined>, suites: readonly Pick<ResolvedSuite, 'candidate'>[], otelEndpoint?: string, db?: string): Redactor {
  return createRedactor([
    ...secretsFromEnv(env, secretEnvNames(suites)),
    ...secretsInUrl('--otel-endpoint', otelEndpoint),
    ...secretsInUrl('SHADOWGATE_DB', env.SHADOWGATE_DB),
    ...secretsInUrl('--db', db),
  ]);
}
