/**
 * The GitHub Action's outputs, after its `shadowgate gate` step (action.yml). Run as
 * `node dist/action/outputs.js` with, in the environment: CODE (the gate's exit code), REPORT_DIR,
 * SUITE_FILES (one suite file per line, as the gate got them), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
 *
 * The report folders are found the way the gate names them (the folder itself for one suite, a
 * folder per suite name for several), never by looking for whatever files lie there: a results.json
 * left from an earlier run is not this run's verdict.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadSuite } from '../suite/load.js';
import { forTerminal, noWorkflowCommands } from '../report/escape.js';

/** The Action's `verdict` output: the gate's, or `error` when it could not run (exit 2 or 3). */
export type ActionVerdict = 'pass' | 'fail' | 'inconclusive' | 'error';

export interface ActionReports {
  verdict: ActionVerdict;
  /** One folder per suite (the report folder itself for one suite), as the report-dir input names it; none when the gate could not run. */
  folders: string[];
}

/** The worst of the suites' verdicts, in the order fail, inconclusive, pass; a missing or unreadable results.json is an error. */
export function worstVerdict(verdicts: readonly (string | null)[]): ActionVerdict {
  if (verdicts.length === 0 || verdicts.some((v) => v !== 'pass' && v !== 'fail' && v !== 'inconclusive')) return 'error';
  for (const v of ['fail', 'inconclusive'] as const) if (verdicts.includes(v)) return v;
  return 'pass';
}

/** The report folders of a gate run over `suiteFiles` into `reportDir`, and the verdict their results.json files hold. */
export async function readReports(code: number, reportDir: string, suiteFiles: readonly string[], cwd: string): Promise<ActionReports> {
  // Exit 2 (usage, config, input) or 3 (internal): no suite was gated, whatever files lie in the folder.
  if (code !== 0 && code !== 1) return { verdict: 'error', folders: [] };
  const folders = suiteFiles.length === 1 ? [reportDir] : await Promise.all(suiteFiles.map(async (f) => join(reportDir, (await loadSuite(resolve(cwd, f))).name)));
  const verdicts = folders.map((folder) => {
    try {
      const verdict = (JSON.parse(readFileSync(resolve(cwd, folder, 'results.json'), 'utf8')) as { gate?: { verdict?: unknown } }).gate?.verdict;
      return typeof verdict === 'string' ? verdict : null;
    } catch {
      return null;
    }
  });
  return { verdict: worstVerdict(verdicts), folders };
}

/** `name=value` lines for $GITHUB_OUTPUT; a value of several lines in the `name<<delimiter` form. */
export function outputLines(outputs: Record<string, string>): string {
  return Object.entries(outputs)
    .map(([name, value]) => {
      if (!value.includes('\n')) return `${name}=${value}\n`;
      const delimiter = `sg_${randomBytes(8).toString('hex')}`;
      return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join('');
}

/** The Action's outputs: the verdict, the gate's exit code, and each kind of report file, one path per suite and line. */
export function actionOutputs(code: number, reports: ActionReports, reportDir: string): Record<string, string> {
  const files = (name: string) => reports.folders.map((f) => join(f, name)).join('\n');
  return {
    verdict: reports.verdict,
    code: String(code),
    'report-dir': reportDir,
    'report-md': files('report.md'),
    'report-html': files('report.html'),
    'junit-xml': files('junit.xml'),
    'results-json': files('results.json'),
  };
}

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const code = Number(env.CODE);
  const reportDir = env.REPORT_DIR ?? '';
  const suites = (env.SUITE_FILES ?? '').split('\n').filter(Boolean);
  const reports = await readReports(code, reportDir, suites, process.cwd());
  const outputs = actionOutputs(code, reports, reportDir);
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, outputLines(outputs));
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `\n**shadowgate gate: \`${reports.verdict}\`** (exit ${code}); reports in \`${reportDir}\`\n`);
  process.stdout.write(`verdict: ${reports.verdict} (exit ${code})\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.env).catch((error: unknown) => {
    process.stderr.write(`::error::shadowgate action: ${noWorkflowCommands(forTerminal(error instanceof Error ? error.message : String(error)), false)}\n`);
    process.exitCode = 3;
  });
}
