import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunMetrics } from '../metrics/summary.js';
import type { TraceResult } from '../replay/types.js';
import type { RunOutcome } from '../run/run-suite.js';
import { writeHtmlReport } from './html.js';
import { writeRunJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdownReport } from './markdown.js';

/**
 * Writes a run's reports into `dir`: report.md (a PR comment body), junit.xml,
 * report.html (self-contained), results.json, and appends the Markdown to
 * `$GITHUB_STEP_SUMMARY` when that is set. Returns the files written.
 */
export function writeReports(
  dir: string,
  outcome: RunOutcome,
  results: () => Iterable<TraceResult>,
  options: { baseline?: RunMetrics; env: Record<string, string | undefined> },
): string[] {
  mkdirSync(dir, { recursive: true });
  const markdown = renderMarkdownReport(outcome, options.baseline);
  const files = [join(dir, 'report.md'), join(dir, 'junit.xml'), join(dir, 'results.json'), join(dir, 'report.html')];
  writeFileSync(files[0]!, markdown);
  writeFileSync(files[1]!, renderJunit(outcome, results()));
  writeRunJson(files[2]!, outcome, results());
  writeHtmlReport(files[3]!, outcome, [...results()], { baseline: options.baseline });
  const summary = options.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `${markdown}\n`);
  return files;
}
