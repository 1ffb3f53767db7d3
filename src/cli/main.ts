import { processIo } from './io.js';
import { runCli } from './program.js';

/** The process entry point: the only place that sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  // `shadowgate runs | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const code = await runCli(argv.slice(2), processIo());
  process.exitCode = code;
  // A candidate stopped by a budget may still hold timers or sockets; they must not keep a CI job waiting.
  setTimeout(() => process.exit(code), 2000).unref();
}
