/**
 * The one way shadowgate writes a file: whole or not at all, and redacted. The text goes to
 * a temporary file beside the target, which is flushed and renamed over it, so that a reader
 * (or a CI step after a full disk) sees the old file or the new one, never half of one. A
 * failure removes the temporary file and is a `WriteError` naming the path and the system's
 * message (exit 2), never a stack trace.
 */
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ShadowgateError } from './errors.js';
import { NO_REDACTION, type Redactor } from './secrets.js';

/** A file shadowgate could not write: the disk is full, the folder is read-only, the path is a folder. */
export class WriteError extends ShadowgateError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super('SG_WRITE', `cannot write ${file}: ${systemMessage(cause)}`, { hint: 'free some space, or name a file in a folder you can write to', cause });
    this.file = file;
  }
}

/** A file being written: `write` text (each call whole values, so that a secret is never split between two), then `commit` or `abort`. */
export interface WholeFile {
  write(text: string): void;
  /** Flushes and renames the temporary file over the target. */
  commit(): void;
  /** Removes the temporary file; the target is left as it was. Safe to call after a failure or a commit. */
  abort(): void;
}

/**
 * Opens `file` for writing whole: its folder is created, and the text goes to a temporary
 * file beside it until `commit`. Every failure aborts and throws a `WriteError`.
 */
export function openWhole(file: string, redactor: Redactor = NO_REDACTION): WholeFile {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fd: number | undefined;
  let done = false;
  const abort = () => {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the removal below matters, not the close
      }
      fd = undefined;
    }
    if (!done) {
      try {
        rmSync(temp, { force: true });
      } catch {
        // a folder that refuses the removal refused the file too: nothing was written
      }
    }
    done = true;
  };
  const guard = <T>(step: () => T): T => {
    try {
      return step();
    } catch (error) {
      abort();
      throw error instanceof WriteError ? error : new WriteError(file, error);
    }
  };
  guard(() => {
    mkdirSync(dirname(file), { recursive: true });
    fd = openSync(temp, 'wx');
  });
  return {
    write(text) {
      if (done || fd === undefined) throw new WriteError(file, new Error('the file was already closed'));
      const bytes = Buffer.from(redactor.text(text), 'utf8');
      // A write may take only part of the bytes (a nearly full disk) without an error: the rest is written
      // until all are, and a write that takes none is a full disk, never a shorter file renamed into place.
      guard(() => {
        for (let at = 0; at < bytes.length; ) {
          const n = writeSync(fd!, bytes, at, bytes.length - at);
          if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          at += n;
        }
      });
    },
    commit() {
      if (done || fd === undefined) throw new WriteError(file, new Error('the file was already closed'));
      guard(() => {
        fsyncSync(fd!);
        closeSync(fd!);
        fd = undefined;
        renameSync(temp, file);
      });
      done = true;
    },
    abort,
  };
}

/**
 * Writes `file` whole: the text, or what `produce` writes (a document streamed piece by
 * piece). Anything `produce` throws aborts the write and is thrown on.
 */
export function writeWhole(file: string, content: string | ((write: (text: string) => void) => void), redactor: Redactor = NO_REDACTION): void {
  const out = openWhole(file, redactor);
  try {
    if (typeof content === 'string') out.write(content);
    else content((text) => out.write(text));
    out.commit();
  } finally {
    out.abort();
  }
}

/** Appends text to a file that is not ours alone (`$GITHUB_STEP_SUMMARY`), redacted, with the same errors. */
export function appendRedacted(file: string, text: string, redactor: Redactor = NO_REDACTION): void {
  try {
    appendFileSync(file, redactor.text(text));
  } catch (error) {
    throw new WriteError(file, error);
  }
}

/** `ENOSPC: no space left on device`: the system's words without the syscall and the path. */
export function systemMessage(cause: unknown): string {
  const error = cause as NodeJS.ErrnoException;
  const message = error instanceof Error ? error.message : String(cause);
  return error?.code && message.startsWith(`${error.code}:`) ? message.split(',')[0]! : message;
}
