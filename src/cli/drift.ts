import { relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_DRIFT_CONFIG } from '../drift/config.js';
import { parseAgainst, parseDuration, parseInstant } from '../drift/windows.js';
import { renderDriftTerminal } from '../report/drift.js';
import { writeDriftJson, writeDriftReports } from '../report/drift-write.js';
import { loadSuite } from '../suite/load.js';
import { driftOverRuns, driftOverTraces, loadDriftConfig, type DriftOptions } from '../run/drift.js';
import type { CliIo } from './io.js';
import { assertWritableFile, positiveInt } from './options.js';
import { describeDb, openStore } from '../store/open.js';

interface DriftFlags {
  workflow?: string;
  window?: string;
  windows?: number;
  against?: string;
  until?: string;
  config?: string;
  suite?: string;
  json?: string;
  report?: string;
  strict?: boolean;
  db: string;
}

/** Exit 0: no threshold crossed; 1: one was crossed, or too few runs to judge (2, bad input, is thrown). */
const EXIT_PASS = 0;
const EXIT_DRIFTED = 1;

/** `shadowgate drift [traces...]`: figures per time window over production traces or stored runs, and thresholds on the latest. */
export function registerDriftCommand(program: Command, io: CliIo, setExit: (code: number) => void, db: Option): void {
  program
    .command('drift')
    .description('what moved over time: production traces (windows by recordedAt) or stored runs (by start), per window agreement, override, escalation and error rates, cost, p95 latency and the tool-call mix; exit 1 when a threshold is crossed')
    .argument('[traces...]', 'trace files (JSONL), folders of them or globs; none: the finished runs in the store')
    .option('--workflow <name>', 'only traces of this workflow (stored runs: of this suite)')
    .option('--window <length>', 'window length: 12h, 7d, 2w (default: the config\'s, else 7d)')
    .option('--windows <n>', 'how many consecutive windows, the last ending at the latest time seen (default: the config\'s, else 4)', positiveInt)
    .option('--against <previous|from..to>', 'each window against the one before (default), or against one fixed range of dates')
    .option('--until <date>', 'end of the last window (default: the latest recordedAt, or the latest run\'s start)')
    .addOption(new Option('--config <file>', 'drift config (YAML): thresholds, minTraces, compare, pricing, defaults for these flags').env('SHADOWGATE_DRIFT_CONFIG'))
    .option('--suite <file>', 'decide "same decision" over trace files with this suite\'s compare.decision, as its runs do (instead of the config\'s compare)')
    .option('--json <file>', 'write the report as shadowgate.drift/v1')
    .option('--report <dir>', 'write report.md, report.html and drift.json there (the Markdown also to $GITHUB_STEP_SUMMARY)')
    .option('--strict', 'any invalid trace line is an error (exit 2), listed with its file and line; without it such lines are listed and left out')
    .addOption(db)
    .action(async (traces: string[], opts: DriftFlags) => {
      const loaded = opts.config ? await loadDriftConfig(resolve(io.cwd, opts.config)) : DEFAULT_DRIFT_CONFIG;
      // One comparator: with a suite, production traces are judged as the suite's runs are.
      const config = opts.suite ? { ...loaded, compare: (await loadSuite(resolve(io.cwd, opts.suite))).compare.decision } : loaded;
      const window = opts.window ?? config.window ?? '7d';
      const options: DriftOptions = {
        config,
        workflow: opts.workflow ?? config.workflow ?? null,
        window,
        windowMs: parseDuration(window),
        windows: opts.windows ?? config.windows ?? 4,
        against: parseAgainst(opts.against ?? config.against ?? 'previous'),
        until: opts.until === undefined ? undefined : parseInstant(opts.until, '--until'),
        cwd: io.cwd,
        now: new Date(),
        strict: opts.strict === true,
      };
      if (opts.json) assertWritableFile(resolve(io.cwd, opts.json));
      if (opts.report) assertWritableFile(resolve(io.cwd, opts.report, 'report.md'));
      let report;
      if (traces.length > 0) report = await driftOverTraces(traces, options);
      else {
        const store = openStore(opts.db, io.cwd, { existing: true });
        try {
          report = driftOverRuns(store, describeDb(opts.db), options);
        } finally {
          store.close();
        }
      }
      io.stdout.write(renderDriftTerminal(report));
      if (opts.json) writeDriftJson(resolve(io.cwd, opts.json), report);
      if (opts.report) {
        const dir = resolve(io.cwd, opts.report);
        writeDriftReports(dir, report, io.env);
        io.stdout.write(`reports: ${relative(io.cwd, dir) || '.'}/ (report.md, report.html, drift.json)\n`);
      }
      setExit(report.verdict === 'pass' ? EXIT_PASS : EXIT_DRIFTED);
    });
}
