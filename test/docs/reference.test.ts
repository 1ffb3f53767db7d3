import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemaOf } from '../../src/json-schema/generate.js';
import { GENERATED_DOCS, renderCliReference, renderConfigurationReference } from '../../src/docs/reference.js';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

type Node = { properties?: Record<string, Node>; items?: Node; oneOf?: Node[]; anyOf?: Node[]; additionalProperties?: unknown; description?: string };

/** Every key of a JSON Schema, with its path, through lists, records and alternatives. */
function keysOf(node: Node, path: string): { path: string; node: Node }[] {
  const own = Object.entries(node.properties ?? {}).flatMap(([key, child]) => [{ path: `${path}${key}`, node: child }, ...keysOf(child, `${path}${key}.`)]);
  const record = typeof node.additionalProperties === 'object' ? keysOf(node.additionalProperties as Node, `${path}<name>.`) : [];
  const below = [node.items, ...(node.oneOf ?? []), ...(node.anyOf ?? [])].filter((n): n is Node => n !== undefined).flatMap((n) => keysOf(n, path));
  return [...own, ...record, ...below];
}

describe('the generated references', () => {
  it('docs/configuration.md is what `npm run docs` writes from the schemas', () => {
    expect(read(GENERATED_DOCS.configuration), `${GENERATED_DOCS.configuration} is stale: run \`npm run docs\``).toBe(renderConfigurationReference());
  });

  it("docs/cli.md is what `npm run docs` writes from the commands' help", () => {
    expect(read(GENERATED_DOCS.cli), `${GENERATED_DOCS.cli} is stale: run \`npm run docs\``).toBe(renderCliReference());
  });

  it('describes every key of a suite file', () => {
    const keys = keysOf(jsonSchemaOf('suite') as Node, '');
    expect(keys.length).toBeGreaterThan(50);
    expect(keys.filter((k) => !k.node.description).map((k) => k.path), 'suite keys without a .describe()').toEqual([]);
  });

  it('lists every suite key and every command in the references', () => {
    const configuration = renderConfigurationReference();
    for (const key of Object.keys((jsonSchemaOf('suite') as Node).properties ?? {})) expect(configuration).toContain(`| \`${key}\` |`);
    const cli = renderCliReference();
    for (const command of ['run', 'gate', 'validate', 'plan', 'drift', 'compare', 'show', 'runs', 'review export', 'prompt diff']) {
      expect(cli).toContain(`## shadowgate ${command}\n`);
    }
  });

  it('does not depend on the terminal or the environment of whoever generates it', () => {
    const columns = process.stdout.columns;
    const db = process.env.SHADOWGATE_DB;
    try {
      Object.defineProperty(process.stdout, 'columns', { value: 37, configurable: true });
      process.env.SHADOWGATE_DB = 'elsewhere.db';
      expect(renderCliReference()).toBe(read(GENERATED_DOCS.cli));
    } finally {
      Object.defineProperty(process.stdout, 'columns', { value: columns, configurable: true });
      if (db === undefined) delete process.env.SHADOWGATE_DB;
      else process.env.SHADOWGATE_DB = db;
    }
  });
});
