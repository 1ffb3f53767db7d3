import { mkdirSync } from 'node:fs';
import { writeWhole } from '../write-whole.js';
import { join, relative, resolve } from 'node:path';
import { Argument, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { renderJsonSchema, SCHEMA_KINDS, schemaFileName, type SchemaKind } from '../json-schema/generate.js';
import type { CliIo } from './io.js';

/**
 * `shadowgate schema [suite|tools|trace] [--out <dir>]`: JSON Schema generated from the zod
 * schemas, for editors (yaml-language-server) and other tools. With `--out`, the named
 * schema (or all three) is written there as `<kind>.schema.json`; without, the named one is
 * printed.
 */
export function registerSchemaCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('schema')
    .description('JSON Schema of suite files, tool catalogs and traces, for editor completion and checks')
    .addArgument(new Argument('[kind]', 'which schema (all three with --out)').choices(SCHEMA_KINDS))
    .option('--out <dir>', 'write <kind>.schema.json files to this folder instead of printing')
    .action((kind: SchemaKind | undefined, opts: { out?: string }) => {
      if (!opts.out) {
        if (!kind) throw new UsageError('name the schema to print: suite, tools or trace', 'or write all three with --out <dir>, e.g. shadowgate schema --out schema');
        io.stdout.write(renderJsonSchema(kind));
        setExit(0);
        return;
      }
      const dir = resolve(io.cwd, opts.out);
      try {
        mkdirSync(dir, { recursive: true });
      } catch (error) {
        throw new UsageError(`cannot write to ${opts.out}: ${(error as Error).message}`, 'name a folder you can write to');
      }
      for (const k of kind ? [kind] : SCHEMA_KINDS) {
        const file = join(dir, schemaFileName(k));
        writeWhole(file, renderJsonSchema(k));
        io.stdout.write(`${relative(io.cwd, file)}\n`);
      }
      setExit(0);
    });
}
