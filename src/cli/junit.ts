import { InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import { JUNIT_KINDS, renderGateJunit, renderJunit, type JunitKind } from '../report/junit.js';
import type { TraceResult } from '../replay/types.js';
import type { RunOutcome } from '../run/run-suite.js';
import type { Redactor } from '../secrets.js';
import { writeWhole } from '../write-whole.js';

/*
 * `--junit <kind>[:<file>]` on run, gate and merge. Without it, --report's junit.xml holds a
 * testcase per trace, as it always did; `--junit gate` makes it a testcase per gate check, and
 * `--junit gate:<file>` writes that to a file of its own (with or without --report).
 */

/** `--junit <kind>[:<file>]`: what junit.xml holds, and a file of its own to write it to. */
export interface JunitFlag {
  kind: JunitKind;
  file?: string;
}

export const junitOption = () =>
  new Option(
    '--junit <kind[:file]>',
    'what junit.xml holds: `traces` (one testcase per trace, the default) or `gate` (one per gate check: a failing check is a failure, an inconclusive one an error); junit.xml goes into --report, or to the file after the colon (--junit gate:junit-gate.xml)',
  )
    .argParser(parseJunit)
    .env('SHADOWGATE_JUNIT');

/** `gate` → the gate's checks into --report's junit.xml; `gate:out/gate.xml` → into that file as well. */
function parseJunit(value: string): JunitFlag {
  const at = value.indexOf(':');
  const kind = at < 0 ? value : value.slice(0, at);
  const file = at < 0 ? undefined : value.slice(at + 1);
  if (!(JUNIT_KINDS as readonly string[]).includes(kind) || file === '') throw new InvalidArgumentError('expected gate or traces, optionally with :<file>, e.g. gate or gate:reports/gate.xml');
  return { kind: kind as JunitKind, ...(file ? { file } : {}) };
}

/** A JUnit kind with nowhere to go is refused before anything runs. */
export function assertJunitHasAPlace(opts: { junit?: JunitFlag; report?: string }): void {
  if (opts.junit && !opts.junit.file && !opts.report) {
    throw new UsageError(`--junit ${opts.junit.kind} needs a place for junit.xml`, `add --report <dir> (junit.xml goes there) or name a file: --junit ${opts.junit.kind}:<file>`);
  }
}

export function writeJunitFile(file: string, kind: JunitKind, outcome: RunOutcome, results: () => Iterable<TraceResult>, redactor: Redactor): void {
  writeWhole(file, kind === 'gate' ? renderGateJunit(outcome) : renderJunit(outcome, results()), redactor);
}

