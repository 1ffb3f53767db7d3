import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { SuiteFileSchema } from '../suite/schema.js';
import { ToolCatalogSchema } from '../trace/catalog.js';
import { TraceSchema } from '../trace/schema.js';
import { jsonSchemaOf, renderJsonSchema, SCHEMA_KINDS, schemaFileName, type SchemaKind } from './generate.js';
import { EXAMPLE_SUITES, EXAMPLE_TRACES } from '../../test/example.js';

const ROOT = resolve(import.meta.dirname, '../..');
// `format: uri` (baseURL) is checked by zod; ajv has no format vocabulary without a plugin.
const compile = (kind: SchemaKind) => new Ajv({ allErrors: true, formats: { uri: true } }).compile(jsonSchemaOf(kind));
const validators = Object.fromEntries(SCHEMA_KINDS.map((k) => [k, compile(k)])) as Record<SchemaKind, ReturnType<typeof compile>>;
const ZOD: Record<SchemaKind, z.ZodType> = { suite: SuiteFileSchema, tools: ToolCatalogSchema, trace: TraceSchema };

/** Whether the JSON Schema accepts a value; its errors when it does not. */
function check(kind: SchemaKind, value: unknown): { ok: boolean; errors: string[] } {
  const validate = validators[kind];
  const ok = validate(value);
  return { ok, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
}

const yamlFile = (...parts: string[]) => parse(readFileSync(join(ROOT, ...parts), 'utf8')) as Record<string, unknown>;
// The bundled suites and traces by name (test/example.ts), not whatever a user has added beside them.
const suiteFiles = [...EXAMPLE_SUITES];
const mainSuite = () => yamlFile('suites', 'refund-triage.yaml');
const catalog = () => yamlFile('fixtures', 'refund-triage', 'tools.yaml');
const traceLines = [...EXAMPLE_TRACES.production, ...EXAMPLE_TRACES.shadow].flatMap((f) =>
  readFileSync(join(ROOT, f), 'utf8').split('\n').filter((l) => l.trim() !== ''),
);
const aTrace = () => JSON.parse(traceLines[0]!) as Record<string, unknown>;

describe('jsonSchemaOf', () => {
  it.each(suiteFiles)('the suite schema accepts the bundled %s', (name) => {
    expect(check('suite', yamlFile('suites', name))).toEqual({ ok: true, errors: [] });
  });

  it('the tools schema accepts the bundled catalog', () => {
    expect(check('tools', catalog())).toEqual({ ok: true, errors: [] });
  });

  it('the trace schema accepts every bundled trace', () => {
    expect(traceLines.length).toBeGreaterThan(100);
    const rejected = traceLines.map((l) => JSON.parse(l) as { id: string }).filter((t) => !check('trace', t).ok).map((t) => t.id);
    expect(rejected).toEqual([]);
  });

  it('rejects a misspelled key at any depth, as the strict zod objects do', () => {
    const suite = mainSuite();
    expect(check('suite', { ...suite, gate: { ...(suite.gate as object), agreemnt: { min: 0.9 } } })).toEqual({
      ok: false,
      errors: ['/gate must NOT have additional properties'],
    });
    const tools = catalog() as { tools: Record<string, unknown>[] };
    const { effect, ...first } = tools.tools[0]!;
    expect(check('tools', { tools: [{ ...first, efect: effect }, ...tools.tools.slice(1)] }).ok).toBe(false);
    expect(check('trace', { ...aTrace(), step: [] }).ok).toBe(false);
  });

  it('makes keys with a default optional (a suite as written) and the others required', () => {
    const suite = jsonSchemaOf('suite');
    expect(suite.required).toEqual(['name', 'traces', 'tools', 'candidate']);
    expect((suite.properties as Record<string, { default?: unknown }>).phase?.default).toBe('shadow');
    expect(check('suite', { name: 'x', traces: 't.jsonl', tools: 'tools.yaml', candidate: { kind: 'module', module: 'a.mjs' } }).ok).toBe(true);
  });

  // Each case: a value, and which schema judges it. zod's verdict is the truth; the JSON Schema must agree.
  const policySuite = (rule: Record<string, unknown>) => ({ ...mainSuite(), policy: { rules: [{ id: 'r1', ...rule }] } });
  const { input: _input, ...traceWithoutInput } = aTrace();
  const cases: [string, SchemaKind, unknown][] = [
    ['a trace without input', 'trace', traceWithoutInput],
    ['a trace whose input is null', 'trace', { ...aTrace(), input: null }],
    ['a policy condition with no operator', 'suite', policySuite({ tool: 'issue_refund', when: { arg: 'amount' }, action: 'deny' })],
    ['a policy condition with an operator', 'suite', policySuite({ tool: 'issue_refund', when: { arg: 'amount', gt: 1 }, action: 'deny' })],
    ['a requirement with nothing required', 'suite', policySuite({ tool: 'issue_refund', requires: {} })],
    ['an allowlist that also names a tool', 'suite', policySuite({ allowTools: ['get_order'], tool: 'get_order' })],
    ['an allowlist', 'suite', policySuite({ allowTools: ['get_order'], workflow: 'refund-triage' })],
    ['a tool rule with neither action nor requires', 'suite', policySuite({ tool: 'issue_refund' })],
    ['a tool rule with both action and requires', 'suite', policySuite({ tool: 'issue_refund', action: 'deny', requires: { status: 'escalated' } })],
    ['a rule with neither allowTools nor tool', 'suite', policySuite({ action: 'deny' })],
    ['a requires rule', 'suite', policySuite({ tool: 'issue_refund', requires: { calledBefore: 'escalate_to_human' } })],
    ['a policy gate with nothing in it', 'suite', { ...mainSuite(), gate: { policyViolations: {} } }],
    ['a policy gate on one rule', 'suite', { ...mainSuite(), gate: { policyViolations: { rules: { 'refund-triage-tools': { max: 0 } } } } }],
    ['a candidate of an unknown kind', 'suite', { ...mainSuite(), candidate: { kind: 'script', module: 'a.mjs' } }],
    ['an agreement rate above 1', 'suite', { ...mainSuite(), gate: { agreement: { min: 1.5 } } }],
    ['an unknown effect class', 'tools', { tools: [{ name: 'x', effect: 'delete' }] }],
  ];
  it.each(cases)('agrees with zod on %s', (_what, kind, value) => {
    expect(check(kind, value).ok).toBe(ZOD[kind].safeParse(value).success);
  });

  it('drops the safe-integer bounds zod puts on integers, and keeps real ones', () => {
    const text = JSON.stringify(jsonSchemaOf('suite'));
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    const trials = (jsonSchemaOf('suite').properties as Record<string, unknown>).trials;
    expect(trials).toEqual({ default: 1, type: 'integer', minimum: 1, maximum: 100, description: expect.any(String) });
  });
});

describe('the committed schema/ files', () => {
  it.each(SCHEMA_KINDS)('%s.schema.json is what the zod schemas generate now (regenerate with `shadowgate schema --out schema`)', (kind) => {
    expect(readFileSync(join(ROOT, 'schema', schemaFileName(kind)), 'utf8')).toBe(renderJsonSchema(kind));
  });
});

describe('the bundled YAML files', () => {
  const modeline = (file: string) => /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
  it.each(suiteFiles)('%s points yaml-language-server at the committed suite schema', (name) => {
    const file = join(ROOT, 'suites', name);
    expect(resolve(join(ROOT, 'suites'), modeline(file) ?? '')).toBe(join(ROOT, 'schema', 'suite.schema.json'));
  });
  it('the tool catalog points it at the committed tools schema', () => {
    const dir = join(ROOT, 'fixtures', 'refund-triage');
    expect(resolve(dir, modeline(join(dir, 'tools.yaml')) ?? '')).toBe(join(ROOT, 'schema', 'tools.schema.json'));
  });
});
