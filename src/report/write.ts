import { join } from 'node:path';
import type { RunMetrics } from '../metrics/summary.js';
import type { TraceResult } from '../replay/types.js';
import type { RunOutcome } from '../run/run-suite.js';
import { renderHtmlReport } from './html.js';
import { writeRunJson } from './json.js';
import { renderGateJunit, renderJunit, type JunitKind } from './junit.js';
import { renderMarkdownReport } from './markdown.js';
import type { Redactor } from '../secrets.js';
import { appendRedacted, writeWhole } from '../write-whole.js';

/** What a report folder holds: the Markdown, the HTML page, and the JSON document (with any other file). */
export interface ReportFolder {
  /** A PR comment body; also appended to `$GITHUB_STEP_SUMMARY` when that is set. */
  markdown: string;
  html: string;
  /** The other files by name, in order: their text, or a function that writes the file (a document streamed from results) with `writeWhole` and the redactor it is given. */
  files: Record<string, string | ((file: string, redactor?: Redactor) => void)>;
  /** The names of the Markdown and HTML files. @default { markdown: 'report.md', html: 'report.html' } */
  names?: { markdown: string; html: string };
}

/**
 * Writes a report folder into `dir` (created if need be): the Markdown, the HTML page and
 * the other files, each whole or not at all and with the run's secrets redacted, and appends
 * the Markdown to `$GITHUB_STEP_SUMMARY` when that is set. Returns the files written.
 */
export function writeReportFolder(dir: string, folder: ReportFolder, env: Record<string, string | undefined>, redactor?: Redactor): string[] {
  const names = folder.names ?? { markdown: 'report.md', html: 'report.html' };
  const written = [join(dir, names.markdown), join(dir, names.html)];
  writeWhole(written[0]!, folder.markdown, redactor);
  writeWhole(written[1]!, folder.html, redactor);
  for (const [name, content] of Object.entries(folder.files)) {
    const file = join(dir, name);
    if (typeof content === 'string') writeWhole(file, content, redactor);
    else content(file, redactor);
    written.push(file);
  }
  if (env.GITHUB_STEP_SUMMARY) appendRedacted(env.GITHUB_STEP_SUMMARY, `${folder.markdown}\n`, redactor);
  return written;
}

/**
 * Writes a run's reports into `dir`: report.md (a PR comment body), report.html
 * (self-contained), junit.xml (a testcase per trace, or with `junit: 'gate'` per gate check),
 * results.json, and appends the Markdown to `$GITHUB_STEP_SUMMARY` when that is set.
 * Returns the files written.
 */
export function writeReports(
  dir: string,
  outcome: RunOutcome,
  results: () => Iterable<TraceResult>,
  options: { baseline?: RunMetrics; env: Record<string, string | undefined>; redactor?: Redactor; junit?: JunitKind },
): string[] {
  return writeReportFolder(
    dir,
    {
      markdown: renderMarkdownReport(outcome, options.baseline),
      html: renderHtmlReport(outcome, [...results()], { baseline: options.baseline }),
      files: {
        'junit.xml': options.junit === 'gate' ? renderGateJunit(outcome) : renderJunit(outcome, results()),
        'results.json': (file, redactor) => writeRunJson(file, outcome, results(), redactor),
      },
    },
    options.env,
    options.redactor,
  );
}
