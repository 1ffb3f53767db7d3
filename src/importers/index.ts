import type { Importer } from './types.js';

/** The formats `shadowgate import <format>` reads, each with a one-line description. */
export const IMPORTERS: Record<string, { describe: string; importer: Importer }> = {};
