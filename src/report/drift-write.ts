import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DriftReport } from '../drift/report.js';
import { renderDriftHtml } from './drift-html.js';
import { renderDriftMarkdown } from './drift.js';

/** Writes the drift report as JSON (`shadowgate.drift/v1`), creating its folder. */
export function writeDriftJson(file: string, report: DriftReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * Writes report.md, report.html and drift.json into `dir`, and appends the Markdown
 * to `$GITHUB_STEP_SUMMARY` when that is set. Returns the files written.
 */
export function writeDriftReports(dir: string, report: DriftReport, env: Record<string, string | undefined>): string[] {
  mkdirSync(dir, { recursive: true });
  const markdown = renderDriftMarkdown(report);
  const files = [join(dir, 'report.md'), join(dir, 'report.html'), join(dir, 'drift.json')];
  writeFileSync(files[0]!, markdown);
  writeFileSync(files[1]!, renderDriftHtml(report));
  writeDriftJson(files[2]!, report);
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
  return files;
}
