import { writeWhole } from '../write-whole.js';
import { runRedactor } from '../run/run-secrets.js';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { findPromptFamilies, promptDirs, suitesByPrompt } from '../prompts/versions.js';
import { promptDiffDocument, renderPromptDiff, renderPromptDiffMarkdown } from '../report/prompt-diff.js';
import { renderPromptDiffHtml } from '../report/prompt-diff-html.js';
import { writeReportFolder } from '../report/write.js';
import { gitInfo } from '../run/git.js';
import { diffPromptVersions } from '../run/prompt-diff.js';
import type { CliIo } from './io.js';
import { assertWritableFile, positiveInt } from './options.js';
import { openStore } from '../store/open.js';
import { createProgressReporter } from './progress.js';

interface DiffFlags {
  suite?: string;
  dir?: string;
  trace?: string;
  json?: string;
  report?: string;
  concurrency: number;
  cache: boolean;
  db: string;
}

/** The file, once it is known that it can be written: before anything runs. */
function writable(file: string): string {
  assertWritableFile(file);
  return file;
}

/** `shadowgate prompt list` and `shadowgate prompt diff <name> <a> <b>`. */
export function registerPromptCommands(program: Command, io: CliIo, setExit: (code: number) => void, dbOption: Option): void {
  const prompt = program.command('prompt').description('prompt template versions (<name>.<version>.hbs): list them, diff two of them');

  prompt
    .command('list')
    .description('the prompts, their versions in order and which suites run which')
    .option('--dir <dir>', 'the folder of the templates (default: every fixtures/*/prompts)')
    .option('--json <file>', 'write the list as JSON')
    .action(async (opts: { dir?: string; json?: string }) => {
      const families = findPromptFamilies(await promptDirs(io.cwd, { dir: opts.dir }));
      const uses = await suitesByPrompt(io.cwd);
      const list = families.map((f) => ({
        name: f.name,
        dir: relative(io.cwd, f.dir) || '.',
        versions: f.versions.map((v) => ({ version: v.version, file: relative(io.cwd, v.file), suites: uses.get(v.file) ?? [] })),
      }));
      if (families.length === 0) io.stdout.write('no prompt templates (<name>.<version>.hbs) found; --dir names their folder\n');
      for (const f of list) {
        io.stdout.write(`${f.name}  (${f.versions.length} version${f.versions.length === 1 ? '' : 's'}, ${f.dir})\n`);
        const width = Math.max(...f.versions.map((v) => v.version.length));
        for (const v of f.versions) {
          io.stdout.write(`  ${v.version.padEnd(width)}  ${v.file}${v.suites.length ? `  used by ${v.suites.join(', ')}` : ''}\n`);
        }
      }
      if (opts.json) writeWhole(writable(resolve(io.cwd, opts.json)), `${JSON.stringify({ schema: 'shadowgate.prompts/v1', prompts: list }, null, 2)}\n`);
      setExit(0);
    });

  prompt
    .command('diff')
    .description('the text diff of two versions of a prompt, and of the prompt rendered for a trace; with --suite, both run on the suite and their behaviour compared')
    .argument('<name>', 'the prompt (triage for triage.v4.hbs)')
    .argument('<a>', 'the old version (v3)')
    .argument('<b>', 'the new version (v4)')
    .option('--suite <suite>', 'run both versions on this suite (its tool-loop candidate with the prompt set to each) and diff their behaviour')
    .option('--dir <dir>', 'the folder of the templates (default: next to the suite\'s prompt, else every fixtures/*/prompts)')
    .option('--trace <id>', 'render the prompts for this trace (default: the first of the suite\'s traces)')
    .option('--json <file>', 'write shadowgate.prompt-diff/v1')
    .option('--report <dir>', 'write prompt-diff.md, prompt-diff.html and prompt-diff.json there (the Markdown also to $GITHUB_STEP_SUMMARY)')
    .option('--concurrency <n>', 'traces replayed at once', positiveInt, 4)
    .option('--no-cache', 'do not answer model calls from the response cache (nor fill it)')
    .addOption(dbOption)
    .action(async (name: string, a: string, b: string, opts: DiffFlags) => {
      if (a === b) throw new UsageError(`prompt diff ${name} ${a} ${b}: the two versions are the same`, 'name two versions: `shadowgate prompt list` shows them');
      const json = opts.json ? writable(resolve(io.cwd, opts.json)) : undefined;
      const report = opts.report ? resolve(io.cwd, opts.report) : undefined;
      if (report) writable(join(report, 'prompt-diff.md'));
      const store = opts.suite ? openStore(opts.db, io.cwd) : undefined;
      let progress: ReturnType<typeof createProgressReporter> | undefined;
      try {
        const diff = await diffPromptVersions(name, a, b, {
          cwd: io.cwd,
          suiteFile: opts.suite ? resolve(io.cwd, opts.suite) : undefined,
          dir: opts.dir,
          traceId: opts.trace,
          store: store!,
          concurrency: opts.concurrency,
          cache: opts.cache,
          env: io.env,
          git: opts.suite ? gitInfo(dirname(resolve(io.cwd, opts.suite))) : undefined,
          onRunStart: (version) => {
            progress?.done();
            progress = createProgressReporter(io, `${name}.${version}`);
          },
          onProgress: (event) => progress?.update(event),
        });
        progress?.done();
        progress = undefined;
        io.stdout.write(renderPromptDiff(diff, { color: io.stdout.isTTY === true && !io.env.NO_COLOR }));
        const doc = `${JSON.stringify(promptDiffDocument(diff), null, 2)}\n`;
        const redactor = runRedactor(io.env, []);
        if (json) writeWhole(json, doc, redactor);
        if (report) {
          const names = { markdown: 'prompt-diff.md', html: 'prompt-diff.html' };
          writeReportFolder(report, { markdown: renderPromptDiffMarkdown(diff), html: renderPromptDiffHtml(diff), files: { 'prompt-diff.json': doc }, names }, io.env, redactor);
          io.stdout.write(`\nreports: ${relative(io.cwd, report) || '.'}/ (prompt-diff.md, prompt-diff.html, prompt-diff.json)\n`);
        }
      } finally {
        progress?.done();
        store?.close();
      }
      setExit(0);
    });
}
