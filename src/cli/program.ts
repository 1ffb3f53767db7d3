import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { formatIssue, isExpectedError, NotFoundError, UsageError } from '../errors.js';
import { keepNotable, renderRunSummary } from '../report/terminal.js';
import { writeRunJson } from '../report/json.js';
import { writeReports } from '../report/write.js';
import { renderNotableTraces, renderTraceReplay } from '../report/show.js';
import { forTerminal } from '../report/escape.js';
import { chooseBaseline } from '../run/baseline.js';
import { compareCandidates } from '../run/compare.js';
import { mergeRuns } from '../run/merge.js';
import { finalizeRun, unfinishedShards } from '../run/finalize.js';
import { LeaseHeldError } from '../run/lease.js';
import { comparisonDocument, renderComparison, renderComparisonMarkdown } from '../report/compare.js';
import { gitInfo } from '../run/git.js';
import { outcomeResults, resultsOfShard, runSuite, type RunOutcome } from '../run/run-suite.js';
import type { Redactor } from '../secrets.js';
import { gatesAnything, NOTHING_TO_GATE, type GateResult } from '../gate/gate.js';
import { validatePaths } from '../run/validate.js';
import { loadSuite, type ResolvedSuite } from '../suite/load.js';
import type { Store } from '../store/types.js';
import type { TraceResult } from '../replay/types.js';
import { terminalIo, type CliIo } from './io.js';
import { createProgressReporter } from './progress.js';
import { exportReviews, importVerdicts, reviewInTerminal, reviewsAsTraces } from './review.js';
import { registerPhaseCommand } from './phase.js';
import { registerPlanCommand } from './plan.js';
import { registerImportCommand } from './import.js';
import { createOtelExport, type OtelFlags } from './otel.js';
import { registerSchemaCommand } from './schema.js';
import { registerInitCommand } from './init.js';
import { registerPromptCommands } from './prompt.js';
import { registerDriftCommand } from './drift.js';
import { registerMcpStdioCommand } from './mcp-stdio.js';
import { assertWritableFile, positiveInt, runIdArg } from './options.js';
import { assertJunitHasAPlace, junitOption, writeJunitFile, type JunitFlag } from './junit.js';
import { DEFAULT_DB, describeDb, openStore } from '../store/open.js';
import { redactError, redactingIo } from './redact-io.js';
import { runRedactor } from '../run/run-secrets.js';
import { writeWhole } from '../write-whole.js';

export const EXIT = { ok: 0, gateFailed: 1, usage: 2, internal: 3 } as const;

/** `--db`, its default shown (in --help) without the credentials of a SHADOWGATE_DB URL. */
const dbOption = (io: CliIo) => {
  const db = io.env.SHADOWGATE_DB ?? DEFAULT_DB;
  return new Option('--db <file|url>', 'the store: a SQLite file or a postgres:// URL').env('SHADOWGATE_DB').default(db, JSON.stringify(describeDb(db)));
};

/**
 * Builds the command tree. Commands report their exit code through `setExit`;
 * only cli/main.ts touches the process.
 */
export function createProgram(raw: CliIo, setExit: (code: number) => void): Command {
  const io = terminalIo(raw);
  // The secrets every command holds (provider keys, OTLP headers); a run adds its suites' own.
  const secrets = runRedactor(io.env, []);
  const program = new Command('shadowgate')
    .description('Replay recorded agent traces against a candidate with every tool mocked, and gate the release.')
    .version('0.1.0')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)');

  const runOptions = (command: Command) =>
    command
      .argument('<suite...>', 'suite files (YAML)')
      .option('--json <file>', 'write shadowgate.run/v1 results (several suites: one file each, named after the suite)')
      .option('--report <dir>', 'write report.md, junit.xml, report.html and results.json there (several suites: a folder each); the Markdown also goes to $GITHUB_STEP_SUMMARY')
      .addOption(junitOption())
      .option('--concurrency <n>', 'traces replayed at once', positiveInt, 4)
      .addOption(new Option('--workers <n>', "child processes a module candidate runs in (default: the machine's available cores)").argParser(positiveInt).env('SHADOWGATE_WORKERS'))
      .option('--trials <k>', 'run each trace k times (overrides the suite)', positiveInt)
      .option('--shard <i/n>', 'run only shard i of n (1-based): a deterministic split by case id (every trace and trial of a case in the same shard), for CI matrices; merge the results files with `merge`, or write every shard into one stored run with --run-id', parseShard)
      .option('--run-id <id>', 'with --shard: write into the stored run <id> that every shard names (a shared store); the first shard creates it, a shard of another suite, candidate or settings (--trials, --baseline) is refused, the same shard again resumes it; then `finalize <id>`', runIdArg)
      .option('--finalize', 'with --run-id: the last shard to finish finalizes the run (as `finalize`) and exits with its verdict')
      .option('--resume <runId>', 'continue a stored run, running only the traces it lacks')
      .addOption(new Option('--commit-every <n>', 'commit results to the store in groups of n (one transaction each; default 500)').argParser(positiveInt).env('SHADOWGATE_COMMIT_EVERY'))
      .addOption(new Option('--commit-ms <ms>', 'commit waiting results after at most ms milliseconds (default 100): a killed run loses no more than that, and --resume runs it again').argParser(positiveInt).env('SHADOWGATE_COMMIT_MS'))
      .option('--baseline <runId|ref:name|file|auto>', 'pair results with a stored run, the latest run at a git ref (ref:main), a results file, or auto: the latest run of the suite and candidate kind on the base branch ($GITHUB_BASE_REF), none when there is none')
      .option('--noise-floor', 'run the candidate (the baseline\'s, where it can) twice more, independently, and report how much it disagrees with itself')
      .option('--strict', 'any bad trace line is an error (exit 2) before anything runs')
      .option('--no-cache', 'do not answer model calls from the response cache (nor fill it)')
      .addOption(new Option('--record', 'write every model exchange of the run to the cassette').conflicts('replayOnly').env('SHADOWGATE_RECORD'))
      .addOption(new Option('--replay-only', 'answer model calls only from the cassette; a call that is not there fails its trace').env('SHADOWGATE_REPLAY_ONLY'))
      .option('--cassette <file>', 'cassette file (default fixtures/cassettes/<suite>.json)')
      .addOption(new Option('--otel-file <file>', 'write OpenTelemetry spans of the run (GenAI conventions) as OTLP JSON lines').env('SHADOWGATE_OTEL_FILE'))
      .addOption(new Option('--otel-endpoint <url>', 'send OpenTelemetry spans of the run to an OTLP/HTTP endpoint (JSON; /v1/traces added to a bare host)').env('SHADOWGATE_OTEL_ENDPOINT'))
      .addOption(dbOption(io));

  inconclusiveOptions(
    runOptions(
      program
        .command('run')
        .description('replay suites against their candidate and report agreement, drift and cost (exit 1 when a gate fails or is inconclusive)'),
    ),
  ).action(async (suites: string[], opts: RunFlags) => setExit(await runCommand(io, suites, opts, 'run')));

  inconclusiveOptions(
    runOptions(
      program
        .command('gate')
        .description('the release gate for CI: run suites, apply every check, write the reports (exit 0 pass, 1 fail or inconclusive, 2 when a suite has no gate checks)'),
    ),
  ).action(async (suites: string[], opts: RunFlags) => setExit(await runCommand(io, suites, opts, 'gate')));

  const merge = program
    .command('merge')
    .description('merge the results of a sharded run (run --shard i/n --json …) into one run, metrics and verdict as if unsharded')
    .argument('<json...>', 'shadowgate.run/v1 results files, one per shard')
    .option('--json <file>', 'write the merged shadowgate.run/v1 results')
    .option('--report <dir>', 'write report.md, junit.xml, report.html and results.json for the merged run')
    .addOption(junitOption());
  inconclusiveOptions(merge)
    .action((files: string[], opts: { json?: string; report?: string; junit?: JunitFlag } & InconclusiveFlags) => {
      assertJunitHasAPlace(opts);
      const { outcome, results } = mergeRuns(files.map((f) => resolve(io.cwd, f)), new Date());
      io.stdout.write(renderRunSummary(outcome));
      if (opts.json) writeRunJson(resolve(io.cwd, opts.json), outcome, results, secrets);
      if (opts.report) writeReports(resolve(io.cwd, opts.report), outcome, () => results, { env: io.env, redactor: secrets, junit: opts.junit?.kind });
      if (opts.junit?.file) writeJunitFile(resolve(io.cwd, opts.junit.file), opts.junit.kind, outcome, () => results, secrets);
      setExit(gateExit(io, outcome.gate, opts));
    });

  const finalize = program
    .command('finalize')
    .description('metrics, checks and verdict of a run whose shards wrote into one store (run --run-id <id> --shard i/n), once every shard has finished')
    .argument('<runId>', 'the run the shards share')
    .option('--json <file>', 'write the finalized shadowgate.run/v1 results')
    .option('--report <dir>', 'write report.md, junit.xml, report.html and results.json for the finalized run')
    .addOption(junitOption())
    .addOption(dbOption(io));
  inconclusiveOptions(finalize)
    .action((runId: string, opts: { json?: string; report?: string; junit?: JunitFlag; db: string } & InconclusiveFlags) => {
      assertJunitHasAPlace(opts);
      if (opts.json) assertWritableFile(resolve(io.cwd, opts.json));
      const store = openStore(opts.db, io.cwd, { existing: true });
      try {
        const leaseTimeout = leaseTimeoutMs(io.env);
        setExit(writeFinalized(io, finalizeRun(store, runId, new Date(), leaseTimeout !== undefined ? { timeoutMs: leaseTimeout } : {}), opts, secrets));
      } finally {
        store.close();
      }
    });

  program
    .command('compare')
    .description('run several candidates on the same traces and compare them side by side, with pairwise McNemar tests')
    .argument('<suite>', 'suite file (YAML); its own candidate is "current"')
    .option('--candidate <name=spec>', 'a candidate: name=openai:gpt-4.1, name=prompts/v5.hbs, name=agents/v3.mjs, name=traces/other.jsonl (recorded runs, paired by case and trial) or name=model=…,prompt=… (repeatable)', collect, [])
    .option('--json <file>', 'write shadowgate.compare/v1')
    .option('--markdown <file>', 'write the comparison as Markdown')
    .option('--concurrency <n>', 'traces replayed at once', positiveInt, 4)
    .option('--no-cache', 'do not answer model calls from the response cache')
    .addOption(dbOption(io))
    .action(async (suiteFile: string, opts: CompareFlags) => {
      const specs = opts.candidate.map((c) => {
        const at = c.indexOf('=');
        if (at < 1) throw new UsageError(`--candidate ${c}: expected name=spec`, 'for example --candidate big=openai:gpt-4.1');
        return { name: c.slice(0, at), spec: c.slice(at + 1) };
      });
      if (opts.json) assertWritableFile(resolve(io.cwd, opts.json));
      if (opts.markdown) assertWritableFile(resolve(io.cwd, opts.markdown));
      const suite = await loadSuite(resolve(io.cwd, suiteFile));
      const redactor = runRedactor(io.env, [suite], undefined, opts.db);
      const store = openStore(opts.db, io.cwd);
      try {
        const comparison = await compareCandidates(suite, specs, {
          store,
          concurrency: opts.concurrency,
          cache: opts.cache,
          env: io.env,
          cwd: io.cwd,
          git: gitInfo(dirname(suite.file)),
        });
        io.stdout.write(redactor.text(renderComparison(comparison)));
        if (opts.json) writeWhole(resolve(io.cwd, opts.json), `${JSON.stringify(comparisonDocument(comparison), null, 2)}\n`, redactor);
        if (opts.markdown) writeWhole(resolve(io.cwd, opts.markdown), renderComparisonMarkdown(comparison), redactor);
      } catch (error) {
        throw redactError(error, redactor);
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });

  program
    .command('validate')
    .description('check trace files, suites and tool catalogs; print every problem (exit 2 if any)')
    .argument('<path...>', 'files or folders')
    .action(async (paths: string[]) => {
      const files = await validatePaths(paths, io.cwd);
      for (const f of files) {
        if (f.kind === 'unknown' && f.issues.length === 0) f.issues.push({ file: f.file, message: 'neither a suite (it has no candidate) nor a tool catalog (it has no tools list)' });
      }
      // A problem of a file checked here too (a suite's catalog) is listed and counted under that file once.
      const ownProblems = new Map(files.map((f) => [f.file, new Set(f.issues.filter((i) => i.file === f.file).map(formatIssue))]));
      let problems = 0;
      for (const f of files) {
        const elsewhere = f.issues.filter((i) => i.file !== f.file && ownProblems.get(i.file)?.has(formatIssue(i)));
        const issues = f.issues.filter((i) => !elsewhere.includes(i));
        problems += issues.length;
        const what = f.kind === 'traces' ? `${f.traces} trace(s)` : f.kind;
        io.stdout.write(`${f.issues.length === 0 ? 'ok  ' : 'FAIL'} ${forTerminal(f.file)} (${what})\n`);
        for (const issue of issues) io.stdout.write(`     ${forTerminal(formatIssue(issue))}\n`);
        const others = [...new Set(elsewhere.map((i) => i.file))];
        if (others.length) io.stdout.write(`     (and ${elsewhere.length} problem(s) of ${others.map(forTerminal).join(', ')}, listed under it)\n`);
      }
      io.stdout.write(`\n${files.length} file(s) checked, ${problems} problem(s)\n`);
      setExit(problems === 0 && files.length > 0 ? EXIT.ok : EXIT.usage);
    });

  program
    .command('show')
    .description("a stored run's traces worth a look, or one trace's replay step by step: what the candidate called and got back, and where it diverged")
    .argument('<runId>', 'a run in the store (see `shadowgate runs`)')
    .argument('[traceId]', 'the trace to show step by step')
    .addOption(dbOption(io))
    .action((runId: string, traceId: string | undefined, opts: { db: string }) => {
      const store = openStore(opts.db, io.cwd, { existing: true });
      try {
        const run = store.getRun(runId);
        if (!run) throw new NotFoundError(`no run ${runId} in ${describeDb(opts.db)}`, 'list runs with `shadowgate runs`');
        if (traceId) {
          const results = store.resultsOfTrace(runId, traceId);
          if (results.length === 0) throw new NotFoundError(`run ${runId} has no trace ${traceId}`, `\`shadowgate show ${runId}\` lists its traces worth a look`);
          for (const r of results) io.stdout.write(renderTraceReplay(r));
        } else {
          io.stdout.write(`${forTerminal(`${run.runId}  ${run.suite}  ${run.candidate}  ${run.startedAt}`)}\n`);
          // The run's warnings as it printed them (a loosened sandbox among them): a stored run says what it was run under.
          const warnings = (run.summary as { warnings?: unknown } | null)?.warnings;
          if (Array.isArray(warnings)) for (const w of warnings) if (typeof w === 'string') io.stdout.write(`warning: ${forTerminal(w)}\n`);
          io.stdout.write(renderNotableTraces(runId, store.results(runId)));
        }
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });

  const review = program
    .command('review')
    .enablePositionalOptions()
    .description('work the review queue in the terminal: accept, edit or reject each suggestion (export and import for outside tools)')
    .option('--run <runId>', 'only the items of this run')
    .option('--reviewer <name>', 'who is reviewing', io.env.USER ?? 'reviewer')
    .addOption(dbOption(io))
    .action(async (opts: { run?: string; reviewer: string; db: string }) => {
      const store = openStore(opts.db, io.cwd);
      try {
        await reviewInTerminal(io, store, { runId: opts.run, reviewer: opts.reviewer, now: () => new Date() });
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });
  review
    .command('export')
    .description('write the review items and their verdicts as JSON Lines, or with --as-traces the reviewed ones as regression traces')
    .option('--out <file>', 'the JSONL file to write')
    .option('--as-traces [file]', 'reviewed items as shadowgate.trace/v1 traces, the human\'s final decision as the reference, written to the file (or to --out)')
    .option('--run <runId>', 'only the items of this run')
    .addOption(dbOption(io))
    .action((opts: { out?: string; asTraces?: boolean | string; run?: string; db: string }) => {
      const out = exportTarget(opts);
      const store = openStore(opts.db, io.cwd, { existing: true });
      try {
        const asTraces = opts.asTraces ? reviewsAsTraces(store, opts.run) : undefined;
        const lines = asTraces ? asTraces.lines : exportReviews(store, opts.run);
        const file = resolve(io.cwd, out);
        assertWritableFile(file);
        writeWhole(file, lines.length ? `${lines.join('\n')}\n` : '', secrets);
        io.stdout.write(`${lines.length} ${asTraces ? 'trace(s)' : 'item(s)'} written to ${out}\n`);
        if (asTraces?.rejectedWithoutFinal) {
          io.stdout.write(`${asTraces.rejectedWithoutFinal} rejected item(s) without a final decision left out: a rejection says the suggestion was wrong, not what was right (record one with \`review import\` and \`final\`)\n`);
        }
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });
  review
    .command('import')
    .description('append verdicts from an outside review tool (JSON Lines of { itemId, verdict, final?, reason?, reviewer, at? })')
    .argument('<jsonl>', 'the verdicts')
    .addOption(dbOption(io))
    .action((file: string, opts: { db: string }) => {
      const path = resolve(io.cwd, file);
      if (!existsSync(path)) throw new NotFoundError(`no file ${file}`);
      const store = openStore(opts.db, io.cwd);
      try {
        io.stdout.write(`${importVerdicts(store, file, readFileSync(path, 'utf8'), () => new Date())} verdict(s) imported\n`);
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });

  registerPromptCommands(program, io, setExit, dbOption(io));
  registerDriftCommand(program, io, setExit, dbOption(io));

  registerPhaseCommand(program, io, setExit, dbOption(io));
  registerPlanCommand(program, io, setExit, dbOption(io));
  registerImportCommand(program, io, setExit);
  registerSchemaCommand(program, io, setExit);
  registerInitCommand(program, io, setExit);
  registerMcpStdioCommand(program, io, setExit);

  program
    .command('runs')
    .description('list the runs in the store, newest first')
    .option('--suite <name>', 'only runs of this suite')
    .option('--limit <n>', 'how many', positiveInt, 20)
    .addOption(dbOption(io))
    .action((opts: { suite?: string; limit: number; db: string }) => {
      const store = openStore(opts.db, io.cwd, { existing: true });
      try {
        for (const run of store.listRuns({ suite: opts.suite, limit: opts.limit })) {
          const summary = run.summary as { gate?: { verdict?: string }; counts?: { total?: number } } | null;
          const shard = (summary as { shard?: { index: number; count: number } | null } | null)?.shard;
          const shards = run.finishedAt ? [] : store.listShards(run.runId);
          const state = run.finishedAt
            ? `${summary?.gate?.verdict ?? 'finished'}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}`
            : shards.length > 0
              ? `not finalized (${shards.filter((s) => s.finishedAt).length} of ${shards[0]!.count} shards finished, ${store.countResults(run.runId)} results; finalize ${run.runId})`
              : `unfinished (${store.countResults(run.runId)} results; --resume ${run.runId}${run.shard && run.shard !== '1/1' ? ` --shard ${run.shard}` : ''})`;
          io.stdout.write(`${forTerminal(`${run.runId}  ${run.suite}  ${run.candidate}  ${run.startedAt}  ${state}`)}\n`);
        }
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });

  return program;
}

/** Prints a finalized run's summary, writes its files, and returns the exit code of its verdict. */
function writeFinalized(io: CliIo, { outcome, results, shards }: ReturnType<typeof finalizeRun>, opts: { json?: string; report?: string; junit?: JunitFlag } & InconclusiveFlags, redactor: Redactor): number {
  io.stdout.write(`run ${forTerminal(outcome.meta.runId)} finalized from its ${shards} shard(s)\n${renderRunSummary(outcome)}`);
  if (opts.json) writeRunJson(resolve(io.cwd, opts.json), outcome, results, redactor);
  if (opts.report) writeReports(resolve(io.cwd, opts.report), outcome, () => results, { env: io.env, redactor, junit: opts.junit?.kind });
  if (opts.junit?.file) writeJunitFile(resolve(io.cwd, opts.junit.file), opts.junit.kind, outcome, () => results, redactor);
  return gateExit(io, outcome.gate, opts);
}

/** `--allow-inconclusive` and its older spelling `--no-fail-on-inconclusive`, on run, gate and merge. */
interface InconclusiveFlags {
  allowInconclusive?: boolean;
  failOnInconclusive?: boolean;
}

function inconclusiveOptions(command: Command): Command {
  return command
    .addOption(new Option('--allow-inconclusive', 'exit 0 when the verdict is inconclusive, with a note saying so (a failing check still exits 1)').env('SHADOWGATE_ALLOW_INCONCLUSIVE'))
    .addOption(new Option('--no-fail-on-inconclusive', 'the older name of --allow-inconclusive').env('SHADOWGATE_NO_FAIL_ON_INCONCLUSIVE'));
}

/**
 * The exit code of a verdict: 1 for fail and for inconclusive, unless inconclusive is
 * allowed, which exits 0 and says so, so that a green job does not read as a pass.
 */
function gateExit(io: CliIo, gate: GateResult, opts: InconclusiveFlags): number {
  if (gate.verdict === 'fail') return EXIT.gateFailed;
  if (gate.verdict !== 'inconclusive') return EXIT.ok;
  if (opts.allowInconclusive !== true && opts.failOnInconclusive !== false) return EXIT.gateFailed;
  io.stdout.write('  note: the verdict is INCONCLUSIVE, not a pass; exit 0 because inconclusive is allowed (--allow-inconclusive)\n');
  return EXIT.ok;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface CompareFlags {
  candidate: string[];
  json?: string;
  markdown?: string;
  concurrency: number;
  cache: boolean;
  db: string;
}

/** The file `review export` writes: `--out <file>`, or `--as-traces <file>`; both only when they name the same file. */
function exportTarget(opts: { out?: string; asTraces?: boolean | string }): string {
  const asTraces = typeof opts.asTraces === 'string' ? opts.asTraces : undefined;
  if (asTraces && opts.out && resolve(asTraces) !== resolve(opts.out)) {
    throw new UsageError(`review export: --as-traces ${asTraces} and --out ${opts.out} name two files`, 'name the file once: --as-traces <file>, or --as-traces --out <file>');
  }
  const out = asTraces ?? opts.out;
  if (!out) throw new UsageError('review export needs a file to write', 'add --out <file> (or --as-traces <file> for regression traces)');
  return out;
}

/** `2/3` → the second of three shards. */
function parseShard(value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) throw new InvalidArgumentError('expected i/n with 1 ≤ i ≤ n, e.g. 2/3');
  return { index, count };
}

interface RunFlags extends OtelFlags, InconclusiveFlags {
  json?: string;
  report?: string;
  junit?: JunitFlag;
  shard?: { index: number; count: number };
  runId?: string;
  finalize?: boolean;
  concurrency: number;
  commitEvery?: number;
  commitMs?: number;
  workers?: number;
  trials?: number;
  resume?: string;
  strict?: boolean;
  baseline?: string;
  noiseFloor?: boolean;
  cache: boolean;
  record?: boolean;
  replayOnly?: boolean;
  cassette?: string;
  db: string;
}

async function runCommand(outside: CliIo, suiteFiles: string[], opts: RunFlags, command: 'run' | 'gate'): Promise<number> {
  let io = outside;
  if (opts.resume && suiteFiles.length > 1) throw new UsageError('--resume takes one suite', 'name the suite the run was made with');
  if (opts.record && opts.resume) {
    throw new UsageError('--record cannot be used with --resume', 'a cassette holds a whole run: record it with a run from the start');
  }
  if (opts.baseline && opts.baseline !== 'auto' && !opts.baseline.startsWith('ref:') && suiteFiles.length > 1) {
    throw new UsageError('--baseline <runId|file> takes one suite', 'with several suites use --baseline ref:<branch> or auto, which find each suite\'s own baseline');
  }
  if (opts.runId && !opts.shard) throw new UsageError(`--run-id ${opts.runId} needs --shard i/n`, 'the run an id names is shared by the shards of one split; without shards, leave --run-id out');
  if (opts.runId && suiteFiles.length > 1) throw new UsageError('--run-id takes one suite', 'give each suite its shards and its own --run-id');
  if (opts.finalize && !opts.runId) throw new UsageError('--finalize needs --run-id <id> --shard i/n', 'it asks the last shard of a shared run to finalize it');
  if (opts.cassette && suiteFiles.length > 1) throw new UsageError('--cassette takes one suite', 'leave it out: each suite then uses fixtures/cassettes/<suite>.json');
  const jsonFile = (name: string) => resolve(io.cwd, suiteFiles.length === 1 ? opts.json! : opts.json!.replace(/(\.json)?$/, `.${name}.json`));
  if (opts.json) assertWritableFile(resolve(io.cwd, opts.json));
  if (opts.report) assertWritableFile(resolve(io.cwd, opts.report, 'report.md'));
  assertJunitHasAPlace(opts);
  const junitFile = (name: string) => resolve(io.cwd, suiteFiles.length === 1 ? opts.junit!.file! : opts.junit!.file!.replace(/(\.xml)?$/, `.${name}.xml`));
  if (opts.junit?.file) assertWritableFile(resolve(io.cwd, opts.junit.file));
  const suites: ResolvedSuite[] = [];
  for (const suiteFile of suiteFiles) suites.push(await loadSuite(resolve(io.cwd, suiteFile)));
  // Each suite's outputs are named after it (`--report <dir>/<name>`, `--json x.<name>.json`): two of one name would overwrite each other's.
  // Told apart without case, as the file systems of macOS and Windows runners do.
  const named = new Map<string, string>();
  for (const [i, suite] of suites.entries()) {
    const first = named.get(suite.name.toLowerCase());
    if (first !== undefined) throw new UsageError(`${first} and ${suiteFiles[i]} are both suite ${suite.name} (names are told apart without case)`, 'a run of several suites writes each one\'s reports and results under its name: give each suite its own name, or run them one at a time');
    named.set(suite.name.toLowerCase(), suiteFiles[i]!);
  }
  // A gate with nothing to check would pass on nothing: refused before anything runs.
  const ungated = command === 'gate' ? suiteFiles.filter((_, i) => !gatesAnything(suites[i]!.gate)) : [];
  if (ungated.length > 0) {
    throw new UsageError(`${ungated.join(', ')}: ${NOTHING_TO_GATE}`, 'for example `gate: { agreement: { min: 0.9 } }`; a check with dryRun: true does not decide the verdict; `shadowgate run` measures without a gate');
  }
  // One Redactor for the run: every value of every key it holds, removed from whatever it writes and prints.
  const redactor = runRedactor(io.env, suites, opts.otelEndpoint, opts.db);
  io = redactingIo(outside, redactor);
  const leaseTimeout = leaseTimeoutMs(io.env);
  const otel = createOtelExport(io, opts, redactor);
  const store: Store = openStore(opts.db, io.cwd);
  let exit: number = EXIT.ok;
  try {
    // Every suite's baseline is found before any suite runs: one that is missing refuses the
    // run before a first suite has spent its time and written its outputs.
    const baselines = suites.map((suite) => (opts.baseline ? chooseBaseline(opts.baseline, store, io.cwd, suite, io.env) : { baseline: undefined, note: null }));
    for (const [index, suite] of suites.entries()) {
      const spans = otel?.startRun(suite);
      const progress = createProgressReporter(io, suite.name);
      const { baseline, note } = baselines[index]!;
      if (note) io.stdout.write(`${forTerminal(`${suite.name}: baseline ${note}`)}\n`);
      let outcome: RunOutcome;
      const notable: TraceResult[] = [];
      try {
        outcome = await runSuite(suite, {
          store,
          concurrency: opts.concurrency,
          commit: { ...(opts.commitEvery ? { results: opts.commitEvery } : {}), ...(opts.commitMs ? { ms: opts.commitMs } : {}) },
          workers: opts.workers,
          trials: opts.trials,
          resume: opts.resume,
          ...(leaseTimeout !== undefined ? { lease: { timeoutMs: leaseTimeout } } : {}),
          strict: opts.strict,
          baseline,
          noiseFloor: opts.noiseFloor,
          shard: opts.shard,
          runId: opts.runId,
          cache: opts.cache,
          cassette:
            opts.record || opts.replayOnly
              ? { mode: opts.record ? 'record' : 'replay-only', file: resolve(io.cwd, opts.cassette ?? `fixtures/cassettes/${suite.name}.json`) }
              : undefined,
          env: io.env,
          redactor,
          git: gitInfo(dirname(suite.file)),
          cwd: io.cwd,
          onProgress: (event) => {
            progress.update(event);
            if (event.result) spans?.result(event.result, event.trace);
            if (event.result) keepNotable(notable, event.result);
          },
        });
      } finally {
        progress.done();
      }
      spans?.finish(outcome);
      io.stdout.write(`\n${renderRunSummary(outcome, notable)}`);
      if (outcome.recorded !== undefined) io.stdout.write(`  cassette: ${outcome.recorded} exchange(s) recorded\n`);
      if (opts.json) {
        const file = jsonFile(suite.name);
        writeRunJson(file, outcome, outcomeResults(store, outcome), redactor);
        io.stdout.write(`  results: ${relative(io.cwd, file)}\n`);
      }
      if (opts.report) {
        const dir = resolve(io.cwd, suiteFiles.length === 1 ? opts.report : join(opts.report, suite.name));
        writeReports(dir, outcome, () => ownResults(store, outcome), { baseline: baseline?.metrics, env: io.env, redactor, junit: opts.junit?.kind });
        io.stdout.write(`  reports: ${relative(io.cwd, dir) || '.'}/ (report.md, junit.xml, report.html, results.json)\n`);
      }
      if (opts.junit?.file) {
        const file = junitFile(suite.name);
        writeJunitFile(file, opts.junit.kind, outcome, () => ownResults(store, outcome), redactor);
        io.stdout.write(`  junit (${opts.junit.kind}): ${relative(io.cwd, file)}\n`);
      }
      if (opts.finalize && opts.runId) {
        // The last shard to finish finalizes; an earlier one says which shards it leaves.
        const missing = unfinishedShards(store, opts.runId);
        if (missing.length > 0) {
          io.stdout.write(`  run ${forTerminal(opts.runId)}: not finalized yet, waiting for shard(s) ${missing.join(', ')}\n`);
        } else {
          let finalized: ReturnType<typeof finalizeRun> | undefined;
          try {
            finalized = finalizeRun(store, opts.runId, new Date(), leaseTimeout !== undefined ? { timeoutMs: leaseTimeout } : {});
          } catch (error) {
            // Two last shards at once: the other one finalizes.
            if (!(error instanceof LeaseHeldError)) throw error;
            io.stdout.write(`  run ${forTerminal(opts.runId)}: ${forTerminal(error.message)}; it finalizes the run\n`);
          }
          if (finalized) {
            io.stdout.write('\n');
            // The run's verdict, not the shard's, decides the exit of the shard that finalized it.
            exit = writeFinalized(io, finalized, opts.allowInconclusive ? { allowInconclusive: true } : { failOnInconclusive: opts.failOnInconclusive }, redactor);
            continue;
          }
        }
      }
      if (gateExit(io, outcome.gate, opts) !== EXIT.ok) exit = EXIT.gateFailed;
    }
  } catch (error) {
    throw redactError(error, redactor);
  } finally {
    store.close();
    await otel?.shutdown();
  }
  return exit;
}

/** The results a run's outcome is about: a shard of a shared run, its own. */
function ownResults(store: Store, outcome: RunOutcome): Iterable<TraceResult> {
  return outcome.shared && outcome.shard ? resultsOfShard(store.results(outcome.meta.runId), outcome.shard) : store.results(outcome.meta.runId);
}

/** `SHADOWGATE_LEASE_TIMEOUT_MS`: how long a run's holder may stay silent before a `--resume` takes it over (tests shorten it). */
function leaseTimeoutMs(env: CliIo['env']): number | undefined {
  const value = env.SHADOWGATE_LEASE_TIMEOUT_MS;
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1) throw new UsageError(`SHADOWGATE_LEASE_TIMEOUT_MS must be a positive number of milliseconds, not ${JSON.stringify(value)}`);
  return ms;
}

/** The value of the last `--db` in argv (`--db x` or `--db=x`), as commander will read it. */
function dbArgument(argv: readonly string[]): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === '--db') value = argv[i + 1];
    else if (arg.startsWith('--db=')) value = arg.slice('--db='.length);
  });
  return value;
}

/** Runs the CLI on `argv` (user arguments only) and returns the exit code; never exits the process. */
export async function runCli(argv: readonly string[], outside: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  // A database URL's credentials are secrets from the start, before any option is parsed.
  const secrets = runRedactor(outside.env, [], undefined, dbArgument(argv));
  const io = terminalIo(redactingIo(outside, secrets));
  const program = createProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    redactError(error, secrets);
    if (isExpectedError(error)) {
      io.stderr.write(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
      return EXIT.usage;
    }
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`internal error: ${stack}\nThis is a bug in shadowgate; please report it with the command you ran.\n`);
    return EXIT.internal;
  }
}
