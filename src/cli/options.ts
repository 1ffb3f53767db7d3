import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';
import { runIdProblem } from '../run/run-suite.js';

/** A commander argument parser for counts: a whole number ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** A commander argument parser for `--run-id`: a non-empty id of a safe character set (RUN_ID). */
export function runIdArg(value: string): string {
  const problem = runIdProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/**
 * Fails before a run, not after it, when a results file could not be written: the file is no
 * folder, and the nearest folder of its path that exists is a folder it may write in. Nothing
 * is made here (the missing folders are made when the file is written), so that a run refused
 * after this check leaves nothing behind.
 */
export function assertWritableFile(file: string): void {
  try {
    if (existsSync(file) && statSync(file).isDirectory()) throw new Error('it is a folder');
    let dir = dirname(file);
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as Error).message}`, 'name a file or folder you can write to');
  }
}
