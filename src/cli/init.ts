import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, NotFoundError, UsageError, type Issue } from '../errors.js';
import { draftTools, renderDraftCatalog } from '../init/draft-catalog.js';
import { readTraceFile } from '../trace/reader.js';
import type { Trace } from '../trace/schema.js';
import { writeWhole } from '../write-whole.js';
import type { CliIo } from './io.js';

/** Where the scaffold's files are: `templates/init` of the package, two folders above this module in src/ and in dist/. */
const TEMPLATES = resolve(import.meta.dirname, '../../templates/init');

/**
 * What `shadowgate init` writes: each template (a path under templates/init) and where it
 * goes in the project. The workflow is kept under another name in the package, so that
 * this repository's own CI never mistakes it for one of its workflows.
 */
export const SCAFFOLD: readonly { template: string; to: string }[] = [
  { template: 'suite.yaml', to: 'suite.yaml' },
  { template: 'tools.yaml', to: 'tools.yaml' },
  { template: 'agent.mjs', to: 'agent.mjs' },
  { template: 'traces/example.jsonl', to: 'traces/example.jsonl' },
  { template: 'traces/README.md', to: 'traces/README.md' },
  { template: 'github-workflow.yml', to: '.github/workflows/shadowgate.yml' },
];

/**
 * `shadowgate init [dir]`: a working project for one's own workflow (catalog, made-up
 * traces, a module candidate, a suite whose gate passes, a CI workflow). With
 * `--from <traces.jsonl>`, only the tool catalog, drafted from recorded traces with every
 * effect `unknown` until the user chooses. Never overwrites a file unless `--force`.
 */
export function registerInitCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('init')
    .description('scaffold a project for your own workflow: tool catalog, example traces, a module candidate, a suite and a CI workflow (--from: draft the tool catalog from recorded traces)')
    .argument('[dir]', 'the project folder (made if missing)', '.')
    .option('--from <traces>', 'draft tools.yaml from this JSONL trace file instead: every tool seen, its argument schema, effect unknown')
    .option('--force', 'overwrite files that exist')
    .action(async (dirArg: string, opts: { from?: string; force?: boolean }) => {
      const dir = resolve(io.cwd, dirArg);
      const files = opts.from ? await draftedCatalog(resolve(io.cwd, opts.from), dir) : scaffoldFiles();
      if (!opts.force) refuseOverwrite(dir, files.map((f) => f.to), io.cwd);
      for (const file of files) {
        const path = join(dir, file.to);
        try {
          mkdirSync(dirname(path), { recursive: true });
        } catch (error) {
          throw new UsageError(`cannot make the folder for ${relative(io.cwd, path) || path}: ${(error as Error).message}`, 'name a folder you can write to');
        }
        writeWhole(path, file.text);
      }
      const shown = relative(io.cwd, dir) || '.';
      io.stdout.write(`${files.map((f) => `created ${join(shown, f.to)}`).join('\n')}\n\n`);
      io.stdout.write(opts.from ? nextStepsAfterDraft(shown) : nextSteps(shown));
      setExit(0);
    });
}

function scaffoldFiles(): { to: string; text: string }[] {
  return SCAFFOLD.map(({ template, to }) => ({ to, text: readFileSync(join(TEMPLATES, template), 'utf8') }));
}

/** The catalog drafted from a trace file; a bad line is a located error, never skipped. */
async function draftedCatalog(file: string, dir: string): Promise<{ to: string; text: string }[]> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new NotFoundError(`no trace file ${file}`, 'name a JSON Lines file of shadowgate.trace/v1 traces (`shadowgate import` converts other formats)');
  const traces: Trace[] = [];
  const issues: Issue[] = [];
  for await (const line of readTraceFile(file)) {
    if (line.ok) traces.push(line.trace);
    else issues.push(...line.issues);
  }
  if (issues.length > 0) throw new InputError(issues, 'fix or remove these lines; `shadowgate validate` checks a trace file');
  const tools = draftTools(traces);
  if (tools.length === 0) throw new UsageError(`${file}: no tool calls in ${traces.length} trace(s)`, 'a catalog lists the tools the traces call; these call none');
  return [{ to: 'tools.yaml', text: renderDraftCatalog(tools, relative(dir, file) || file) }];
}

function refuseOverwrite(dir: string, targets: readonly string[], cwd: string): void {
  const existing = targets.map((t) => join(dir, t)).filter((p) => existsSync(p));
  if (existing.length === 0) return;
  throw new UsageError(
    `${existing.map((p) => relative(cwd, p) || p).join(', ')}: already exist${existing.length === 1 ? 's' : ''}; init writes nothing over a file`,
    'choose another folder, or pass --force to overwrite them',
  );
}

function nextSteps(dir: string): string {
  const cd = dir === '.' ? '' : `cd ${dir} && `;
  return [
    'next:',
    `  ${cd}npx shadowgate run suite.yaml     replay the made-up traces against agent.mjs (the gate passes)`,
    '  npx shadowgate validate .            check the suite, the catalog and the traces',
    '  then put your own tools in tools.yaml, your recorded traces in traces/ (or draft the',
    '  catalog from them: npx shadowgate init --from <traces.jsonl> --force), your agent in agent.mjs.',
    '  .github/workflows/shadowgate.yml runs the gate on pull requests: set <owner> in it.',
    '',
  ].join('\n');
}

function nextStepsAfterDraft(dir: string): string {
  return [
    'next:',
    `  choose an effect class for every tool in ${join(dir, 'tools.yaml')} (each is \`unknown\`; validate and run refuse it until then),`,
    '  tighten the inferred argument schemas, then `npx shadowgate validate` it.',
    '',
  ].join('\n');
}
