import { existsSync } from 'node:fs';
import { createMemoryStore } from '../store/memory.js';
import { createSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';

/**
 * The store of a command that only reads it (show, runs, drift, phase, review export): the
 * SQLite file when there is one, else an empty store, so that the command reports that
 * nothing is stored without creating the file or its folders.
 */
export function openExistingStore(file: string): Store {
  return existsSync(file) ? createSqliteStore(file) : createMemoryStore();
}
