import { writeWhole } from '../write-whole.js';
import { resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { renderPlan } from '../report/plan-report.js';
import { loadBaseline } from '../run/baseline.js';
import { planSuite } from '../run/plan.js';
import { loadSuite } from '../suite/load.js';
import type { CliIo } from './io.js';
import { assertWritableFile } from './options.js';
import { openStore } from '../store/open.js';

/**
 * `shadowgate plan <suite>`: how many traces the suite's gate needs to detect a drop of 2, 5
 * and 10 points in agreement, from the baseline's figures, and whether the suite has them.
 * Reads the store (for `--baseline` and the latest run), never writes it; exits 0.
 */
export function registerPlanCommand(program: Command, io: CliIo, setExit: (code: number) => void, db: Option): void {
  program
    .command('plan')
    .description('traces needed to detect a drop of 2, 5 and 10 points in agreement with the suite\'s gate (80% power, the gate\'s alpha), and whether the suite has them')
    .argument('<suite>', 'suite file (YAML)')
    .option('--baseline <runId|ref:name|file>', 'take agreement and noise from this run or results file (default: the latest stored run of the suite)')
    .option('--json <file>', 'write shadowgate.plan/v1')
    .addOption(db)
    .action(async (suiteFile: string, opts: { baseline?: string; json?: string; db: string }) => {
      const out = opts.json && resolve(io.cwd, opts.json);
      if (out) assertWritableFile(out);
      const suite = await loadSuite(resolve(io.cwd, suiteFile));
      const store = openStore(opts.db, io.cwd, { existing: true });
      try {
        const baseline = opts.baseline ? loadBaseline(opts.baseline, store, io.cwd, suite.name) : undefined;
        const plan = await planSuite(suite, store, baseline);
        io.stdout.write(renderPlan(plan));
        if (out) writeWhole(out, `${JSON.stringify(plan, null, 2)}\n`);
      } finally {
        store.close();
      }
      setExit(0);
    });
}
