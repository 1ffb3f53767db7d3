import { safeTerminalText } from '../report/escape.js';

/** What the CLI touches of the outside world; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Where interactive commands (review) read answers from. */
  stdin?: NodeJS.ReadableStream;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), stdin: process.stdin };
}

/**
 * The one terminal writer: the same streams, with everything written passed through
 * `safeTerminalText`, so that no control sequence from a trace reaches the reader's terminal
 * whatever a command prints. Values are escaped one by one (`forTerminal`) where they are
 * interpolated, so that each stays on one line; this is the guard behind that.
 */
export function terminalIo(io: CliIo): CliIo {
  if (TERMINAL in io) return io;
  const guard = <S extends { write(text: string): unknown }>(stream: S): S => {
    // Whether the next write starts a line: what a CI log reader takes as a workflow command depends on it.
    let lineStart = true;
    return Object.assign(Object.create(stream) as S, {
      write: (text: string) => {
        const raw = String(text);
        const safe = safeTerminalText(raw, { lineStart });
        if (raw.length > 0) lineStart = raw.endsWith('\n');
        return stream.write(safe);
      },
    });
  };
  return Object.assign({ ...io, stdout: guard(io.stdout), stderr: guard(io.stderr) }, { [TERMINAL]: true });
}

const TERMINAL = Symbol('terminal writer');
