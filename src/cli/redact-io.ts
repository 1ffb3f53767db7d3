import type { Redactor } from '../secrets.js';
import type { CliIo } from './io.js';

/** The CLI's outside world with the run's secrets redacted from everything printed (stdout and stderr). */
export function redactingIo(io: CliIo, redactor: Redactor): CliIo {
  if (redactor.names.length === 0) return io;
  return {
    ...io,
    stdout: Object.assign(Object.create(io.stdout) as CliIo['stdout'], { write: (text: string) => io.stdout.write(redactor.text(text)) }),
    stderr: Object.assign(Object.create(io.stderr) as CliIo['stderr'], { write: (text: string) => io.stderr.write(redactor.text(text)) }),
  };
}

/** The error with the secrets redacted from its message, hint and stack, before it is printed. */
export function redactError(error: unknown, redactor: Redactor): unknown {
  if (!(error instanceof Error) || redactor.names.length === 0) return error;
  for (const key of ['message', 'stack', 'hint'] as const) {
    const value = (error as Error & { hint?: unknown })[key];
    if (typeof value === 'string') Object.defineProperty(error, key, { value: redactor.text(value), configurable: true, writable: true });
  }
  return error;
}
