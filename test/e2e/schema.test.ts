import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemaOf } from '../../src/json-schema/generate.js';
import { cli } from './helpers.js';

describe('shadowgate schema', () => {
  it('prints the named schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-schema-'));
    try {
      const { code, stdout, stderr } = await cli(dir, 'schema', 'tools');
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).toEqual(jsonSchemaOf('tools'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes all three to --out, as the committed schema/ files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-schema-'));
    try {
      const { code, stdout } = await cli(dir, 'schema', '--out', 'editor/schemas');
      expect(code).toBe(0);
      expect(stdout).toBe(['suite', 'tools', 'trace'].map((k) => join('editor', 'schemas', `${k}.schema.json`)).join('\n') + '\n');
      const written = join(dir, 'editor', 'schemas');
      expect(readdirSync(written).sort()).toEqual(['suite.schema.json', 'tools.schema.json', 'trace.schema.json']);
      for (const f of readdirSync(written)) {
        expect(readFileSync(join(written, f), 'utf8')).toBe(readFileSync(join(import.meta.dirname, '../../schema', f), 'utf8'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes only the named one with --out and a kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-schema-'));
    try {
      expect((await cli(dir, 'schema', 'suite', '--out', '.')).code).toBe(0);
      expect(readdirSync(dir)).toEqual(['suite.schema.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a usage error (exit 2) without a kind or --out, or with an unknown kind', async () => {
    const none = await cli(tmpdir(), 'schema');
    expect(none).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: name the schema to print: suite, tools or trace\nhint: or write all three with --out <dir>, e.g. shadowgate schema --out schema\n',
    });
    const bad = await cli(tmpdir(), 'schema', 'suites');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("value 'suites' is invalid for argument 'kind'. Allowed choices are suite, tools, trace.");
  });
});
