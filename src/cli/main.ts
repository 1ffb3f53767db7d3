import { processIo } from './io.js';
import { runCli } from './program.js';

/** The process entry point: the only place that sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = await runCli(argv.slice(2), processIo());
}
