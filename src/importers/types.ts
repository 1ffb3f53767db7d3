import type { Issue } from '../errors.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { Trace } from '../trace/schema.js';

/** What an importer is given besides the file's text. */
export interface ImportOptions {
  /** The input file, as the user named it: for issues (`file:line: path: message`). */
  file: string;
  /** The workflow the traces belong to (`--workflow`); each importer has a default. */
  workflow?: string;
  /** The agent's model, where the format does not record it (`--model`). */
  model?: string;
  /** A tool catalog (`--tools`), for effect classes and to tell writes from reads. */
  catalog?: ToolCatalog;
}

/**
 * The traces an importer made and the problems it met. A record it cannot use is an
 * issue (file, line where the format has lines, path, message) and the rest still import.
 */
export interface ImportResult {
  traces: Trace[];
  issues: Issue[];
}

/** Turns the text of a file in some outside format into `shadowgate.trace/v1` traces. Pure. */
export type Importer = (text: string, options: ImportOptions) => ImportResult;
