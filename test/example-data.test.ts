import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../src/suite/yaml.js';
import { SuiteFileSchema } from '../src/suite/schema.js';
import { ToolCatalogSchema } from '../src/trace/catalog.js';
import { parseTraceLine } from '../src/trace/reader.js';
import type { Trace } from '../src/trace/schema.js';
import { EXAMPLE_FILES, EXAMPLE_SUITES, EXAMPLE_TRACES } from './example.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const generator = join(root, 'fixtures', 'refund-triage', 'generate.mjs');
const productionDir = join(root, 'traces', 'refund-triage');
const suitesDir = join(root, 'suites');


/** Every line of the given files, parsed; the issues of lines that do not parse, located. */
function readTraces(files: string[]): { traces: Trace[]; issues: string[] } {
  const traces: Trace[] = [];
  const issues: string[] = [];
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const parsed = parseTraceLine(text, relative(root, file), i + 1);
        if (!parsed) return;
        if (parsed.ok) traces.push(parsed.trace);
        else issues.push(...parsed.issues.map((issue) => `${issue.file}:${issue.line} ${issue.path ?? ''} ${issue.message}`));
      });
  }
  return { traces, issues };
}

/** Relative paths of every file under dir. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

// The bundled files by name (test/example.ts): a user's own traces beside them are not the example's.
const productionFiles = EXAMPLE_TRACES.production.map((f) => join(root, f));
const production = readTraces(productionFiles);
const shadow = readTraces(EXAMPLE_TRACES.shadow.map((f) => join(root, f)));

describe('bundled refund-triage traces', () => {
  it('parse as shadowgate.trace/v1, every line', () => {
    expect(production.issues).toEqual([]);
    expect(shadow.issues).toEqual([]);
  });

  it('hold at least 360 production traces over three weekly files', () => {
    expect(productionFiles.map((f) => relative(productionDir, f))).toEqual([
      '2026-w44.jsonl',
      '2026-w45.jsonl',
      '2026-w46.jsonl',
    ]);
    expect(production.traces.length).toBeGreaterThanOrEqual(360);
  });

  it('have unique ids across all bundled files', () => {
    const ids = [...production.traces, ...shadow.traces].map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cases = production.traces.map((t) => t.caseId);
    expect(new Set(cases).size).toBe(cases.length);
  });

  it('are synthetic refund-triage traces with a human decision', () => {
    for (const t of [...production.traces, ...shadow.traces]) {
      expect(t.workflow).toBe('refund-triage');
      expect(t.metadata?.synthetic).toBe(true);
    }
    for (const t of production.traces) {
      expect(t.agent).toEqual({ model: 'gpt-4.1-mini', promptVersion: 'triage.v3' });
      expect(t.human?.decision).toBeDefined();
      const last = t.steps.at(-1);
      expect(last?.type === 'llm' && last.output.toolCalls?.map((c) => c.name)).toEqual(['final_decision']);
    }
  });

  it('include prompt-injection attempts, on which the recorded agent refunded 1 to 3 times', () => {
    const injected = production.traces.filter((t) => t.tags?.includes('injection'));
    expect(injected.length).toBeGreaterThan(5);
    const refunded = injected.filter((t) => (t.outcome?.decision as { action?: string }).action === 'refund');
    expect(refunded.length).toBeGreaterThanOrEqual(1);
    expect(refunded.length).toBeLessThanOrEqual(3);
  });

  it('pair every shadow run with a production case, all but a few cases covered', () => {
    const cases = new Set(production.traces.map((t) => t.caseId));
    for (const t of shadow.traces) expect(cases.has(t.caseId)).toBe(true);
    expect(shadow.traces.length).toBeGreaterThanOrEqual(production.traces.length - 15);
    expect(shadow.traces.length).toBeLessThan(production.traces.length);
    expect(shadow.traces.every((t) => t.agent?.model === 'gpt-4.1' && t.agent.promptVersion === 'triage.v4')).toBe(true);
  });
});

describe('bundled suites and tool catalog', () => {
  const suiteFiles = [...EXAMPLE_SUITES];

  it('bundle the refund-triage suites', () => {
    // Present, whatever else a user has added to suites/ beside them.
    expect(suiteFiles.filter((f) => existsSync(join(suitesDir, f)))).toEqual([
      'refund-triage-anthropic.yaml',
      'refund-triage-http.yaml',
      'refund-triage-local.yaml',
      'refund-triage-openai.yaml',
      'refund-triage-regression.yaml',
      'refund-triage-replay.yaml',
      'refund-triage-shadow-log.yaml',
      'refund-triage.yaml',
    ]);
  });

  it.each(suiteFiles)('%s parses against SuiteFileSchema and names files that exist', (name) => {
    const file = join(suitesDir, name);
    const result = parseYaml(readFileSync(file, 'utf8'), file, SuiteFileSchema);
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (!result.ok) return;
    const suite = result.value;
    expect(existsSync(resolve(suitesDir, suite.tools))).toBe(true);
    const c = suite.candidate;
    if (c.kind === 'module') expect(existsSync(resolve(suitesDir, c.module))).toBe(true);
    if (c.kind === 'tool-loop' && c.prompt) expect(existsSync(resolve(suitesDir, c.prompt))).toBe(true);
  });

  it('the regression and http suites differ from the main suite only in name, description and module', () => {
    const load = (name: string) => {
      const file = join(suitesDir, name);
      const result = parseYaml(readFileSync(file, 'utf8'), file, SuiteFileSchema);
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      const { name: _n, description: _d, candidate: _c, ...rest } = result.value;
      return rest;
    };
    expect(load('refund-triage-regression.yaml')).toEqual(load('refund-triage.yaml'));
    expect(load('refund-triage-http.yaml')).toEqual(load('refund-triage.yaml'));
  });

  it('the tool catalog parses against ToolCatalogSchema', () => {
    const file = join(root, 'fixtures', 'refund-triage', 'tools.yaml');
    const result = parseYaml(readFileSync(file, 'utf8'), file, ToolCatalogSchema);
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (!result.ok) return;
    expect(Object.fromEntries(result.value.tools.map((t) => [t.name, t.effect]))).toEqual({
      get_customer: 'read',
      get_order: 'read',
      check_refund_policy: 'read',
      add_ticket_note: 'write-reversible',
      send_customer_email: 'write-external',
      issue_refund: 'write-irreversible',
      escalate_to_human: 'write-reversible',
    });
  });
});

describe('the trace generator', () => {
  it('re-creates the bundled files byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'shadowgate-refund-triage-'));
    try {
      execFileSync(process.execPath, [generator, '--out', out, '--quiet'], { stdio: 'pipe' });
      for (const dir of ['refund-triage', 'refund-triage-shadow']) {
        const generated = join(out, 'traces', dir);
        const bundled = join(root, 'traces', dir);
        // The generator writes exactly the bundled files (a user's own files beside them are not the example's).
        expect(listFiles(generated)).toEqual(EXAMPLE_FILES.filter((f) => f.startsWith(`traces/${dir}/`)).map((f) => relative(bundled, join(root, f))).sort());
        for (const f of listFiles(generated)) {
          const same = readFileSync(join(generated, f)).equals(readFileSync(join(bundled, f)));
          expect(same, `traces/${dir}/${f} differs from a fresh run of the generator`).toBe(true);
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
