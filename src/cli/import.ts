import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeWhole } from '../write-whole.js';
import { runRedactor } from '../run/run-secrets.js';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { forTerminal } from '../report/escape.js';
import { formatIssue, InputError, NotFoundError, UsageError } from '../errors.js';
import { IMPORTERS } from '../importers/index.js';
import { toolsMissingFrom } from '../importers/unknown-tools.js';
import { loadToolCatalog } from '../suite/load.js';
import { TraceSchema } from '../trace/schema.js';
import type { CliIo } from './io.js';
import { assertWritableFile } from './options.js';

interface ImportFlags {
  out: string;
  workflow?: string;
  model?: string;
  tools?: string;
  strict?: boolean;
}

/**
 * `shadowgate import <format> <in> --out <jsonl>`: traces from another format, each
 * checked against the trace schema before it is written. Problems are listed with file,
 * line and field, and the rest still import (exit 0); `--strict` exits 2 on any. When no
 * trace could be imported and there are problems, it exits 2 listing them, whatever
 * `--strict` says; a file with no records writes an empty trace file and says so.
 */
export function registerImportCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('import')
    .description(`turn traces of another format into shadowgate.trace/v1 JSON Lines (${Object.keys(IMPORTERS).join(' | ')})`)
    .argument('<format>', Object.entries(IMPORTERS).map(([name, f]) => `${name}: ${f.describe}`).join('; '))
    .argument('<in>', 'the file to import')
    .requiredOption('--out <jsonl>', 'the trace file to write')
    .option('--workflow <name>', 'the workflow the traces belong to')
    .option('--model <model>', 'the agent model, where the file does not record it')
    .option('--tools <catalog>', 'a tool catalog (YAML): list the tools the traces use that it lacks (a suite with it would count their calls as writes)')
    .option('--strict', 'exit 2 if any record could not be imported')
    .action(async (format: string, input: string, opts: ImportFlags) => {
      const entry = IMPORTERS[format];
      if (!entry) throw new UsageError(`unknown import format ${format}`, `formats: ${Object.keys(IMPORTERS).join(', ')}`);
      const path = resolve(io.cwd, input);
      if (!existsSync(path)) throw new NotFoundError(`no file ${input}`);
      if (statSync(path).isDirectory()) throw new UsageError(`${input} is a folder: import reads one file`, `name a file in it: shadowgate import ${format} ${input}/<file> --out …`);
      const catalog = opts.tools ? await loadToolCatalog(resolve(io.cwd, opts.tools)) : undefined;
      const out = resolve(io.cwd, opts.out);
      assertWritableFile(out);
      const { traces, issues } = entry.importer(readFileSync(path, 'utf8'), { file: input, workflow: opts.workflow, model: opts.model, catalog });
      // Whatever an importer makes is held to the same schema as a recorded trace.
      const valid = traces.filter((trace, i) => {
        const parsed = TraceSchema.safeParse(trace);
        if (!parsed.success) issues.push(...parsed.error.issues.map((issue) => ({ file: input, path: `traces.${i}.${issue.path.join('.')}`, message: `importer made an invalid trace: ${issue.message}` })));
        return parsed.success;
      });
      if (catalog) for (const name of toolsMissingFrom(valid, catalog)) issues.push({ file: input, message: `tool ${name} is not in ${opts.tools}: a suite with that catalog counts its calls as writes` });
      // Nothing imported and something wrong: most likely a file of another format. That is an error, not an empty result.
      if (valid.length === 0 && issues.length > 0) throw new InputError(issues, `no trace could be imported from ${input}: is it in the ${format} format? (formats: ${Object.keys(IMPORTERS).join(', ')})`);
      // --strict fails on any problem before anything is written.
      if (issues.length > 0 && opts.strict) throw new InputError(issues);
      // Whole or not at all: a failed import leaves the old trace file, never half a new one.
      writeWhole(out, valid.map((t) => JSON.stringify(t)).join('\n') + (valid.length ? '\n' : ''), runRedactor(io.env, []));
      const notReplayable = valid.filter((t) => t.metadata?.replayable === false).length;
      io.stdout.write(
        valid.length === 0
          ? `0 traces: the file holds no records (${opts.out} written empty)\n`
          : `${valid.length} trace(s) written to ${opts.out}${notReplayable ? `, ${notReplayable} marked not replayable` : ''}\n`,
      );
      for (const issue of issues) io.stderr.write(`${forTerminal(formatIssue(issue))}\n`);
      setExit(0);
    });
}
