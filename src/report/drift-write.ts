import type { DriftReport } from '../drift/report.js';
import { renderDriftHtml } from './drift-html.js';
import { renderDriftMarkdown } from './drift.js';
import { writeReportFolder } from './write.js';
import { writeWhole } from '../write-whole.js';

/** The drift report as JSON (`shadowgate.drift/v1`). */
const driftJson = (report: DriftReport) => `${JSON.stringify(report, null, 2)}\n`;

/** Writes the drift report as JSON (`shadowgate.drift/v1`), whole or not at all, creating its folder. */
export function writeDriftJson(file: string, report: DriftReport): void {
  writeWhole(file, driftJson(report));
}

/**
 * Writes report.md, report.html and drift.json into `dir`, and appends the Markdown
 * to `$GITHUB_STEP_SUMMARY` when that is set. Returns the files written.
 */
export function writeDriftReports(dir: string, report: DriftReport, env: Record<string, string | undefined>): string[] {
  return writeReportFolder(dir, { markdown: renderDriftMarkdown(report), html: renderDriftHtml(report), files: { 'drift.json': driftJson(report) } }, env);
}
