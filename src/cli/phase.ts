import { existsSync, readdirSync } from 'node:fs';
import { writeWhole } from '../write-whole.js';
import { join, relative, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { renderPhaseReport } from '../report/phase-report.js';
import { assessSuitePhase, PHASE_SCHEMA_ID } from '../run/phase.js';
import { loadSuite } from '../suite/load.js';
import type { CliIo } from './io.js';
import { assertWritableFile } from './options.js';
import { describeDb, openStore } from '../store/open.js';

/** Suite files in `suites/` under the working folder, for `shadowgate phase` without a suite. */
function defaultSuites(cwd: string): string[] {
  const dir = join(cwd, 'suites');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  if (files.length === 0) throw new UsageError('no suite given and no suites/*.yaml here', 'name a suite: shadowgate phase suites/<name>.yaml');
  return files.map((f) => join('suites', f));
}

/**
 * `shadowgate phase [suite]`: the reversibility matrix of the suite's catalog, the evidence the
 * store holds for its candidate, and the highest phase both allow. Reads the store, never writes it.
 */
export function registerPhaseCommand(program: Command, io: CliIo, setExit: (code: number) => void, db: Option): void {
  program
    .command('phase')
    .description('each tool\'s effect class and the phase it allows, the evidence in the store for the suite\'s candidate, and the highest phase both allow')
    .argument('[suite]', 'suite file (YAML); without it, every suites/*.yaml')
    .option('--json <file>', 'write shadowgate.phase/v1')
    .addOption(db)
    .action(async (suiteFile: string | undefined, opts: { json?: string; db: string }) => {
      const out = opts.json && resolve(io.cwd, opts.json);
      if (out) assertWritableFile(out);
      const files = suiteFile ? [suiteFile] : defaultSuites(io.cwd);
      const suites = [];
      for (const file of files) suites.push(await loadSuite(resolve(io.cwd, file)));
      const store = openStore(opts.db, io.cwd, { existing: true });
      try {
        const reports = suites.map((suite) => ({ ...assessSuitePhase(suite, store), file: relative(io.cwd, suite.file) || suite.file }));
        io.stdout.write(reports.map(renderPhaseReport).join('\n'));
        if (out) writeWhole(out, `${JSON.stringify({ schema: PHASE_SCHEMA_ID, db: describeDb(opts.db), suites: reports }, null, 2)}\n`);
      } finally {
        store.close();
      }
      setExit(0);
    });
}
