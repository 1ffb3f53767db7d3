/**
 * The bundled example, file by file: the suites, traces and fixtures this repository ships and its
 * tests read. Tests name these files rather than list folders, and work on copies of them, so that a
 * user's own suites and traces beside them (a suggest copy of a suite in suites/, imported traces in
 * traces/, as the README suggests) leave `npm test` green.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

/** The bundled suites, by file name under suites/. */
export const EXAMPLE_SUITES = [
  'refund-triage-anthropic.yaml',
  'refund-triage-http.yaml',
  'refund-triage-local.yaml',
  'refund-triage-openai.yaml',
  'refund-triage-regression.yaml',
  'refund-triage-replay.yaml',
  'refund-triage-shadow-log.yaml',
  'refund-triage.yaml',
] as const;

/** The bundled production traces (three weekly files) and the recorded shadow log, relative to the root. */
export const EXAMPLE_TRACES = {
  production: ['traces/refund-triage/2026-w44.jsonl', 'traces/refund-triage/2026-w45.jsonl', 'traces/refund-triage/2026-w46.jsonl'],
  shadow: ['traces/refund-triage-shadow/shadow-log.jsonl'],
} as const;

/** The folders of fixtures the example and the tests use, whole (the project's own, never a user's). */
const EXAMPLE_FIXTURES = ['fixtures/refund-triage', 'fixtures/otel', 'fixtures/tau-bench-airline'];

/** Every file and folder of the example, relative to the root. */
export const EXAMPLE_FILES: readonly string[] = [
  ...EXAMPLE_SUITES.map((f) => `suites/${f}`),
  ...EXAMPLE_TRACES.production,
  'traces/refund-triage/README.md',
  ...EXAMPLE_TRACES.shadow,
  'traces/refund-triage-shadow/README.md',
  ...EXAMPLE_FIXTURES,
];

/** Copies the example (EXAMPLE_FILES, and nothing else of suites/, traces/ or fixtures/) into `dir`. */
export function copyExampleInto(dir: string): void {
  for (const part of EXAMPLE_FILES) {
    mkdirSync(dirname(join(dir, part)), { recursive: true });
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  }
}
