import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { mcnemarMidP } from '../../src/metrics/paired.js';
import { wilsonInterval } from '../../src/metrics/stats.js';
import { tau2Domain } from '../../src/importers/tau2.js';
import { loadToolCatalog } from '../../src/suite/load.js';
import { parseTraceLine } from '../../src/trace/reader.js';
import type { Trace } from '../../src/trace/schema.js';
import { cli, copyExample, ROOT } from './helpers.js';

// Real tau2-bench result files of others (Sierra Research, MIT): kept beside the project, never copied into it.
const CORPUS = resolve(ROOT, '../shared/corpora/tau2');
const RESULTS = join(CORPUS, 'results');
const present = existsSync(RESULTS);
if (!present) console.warn(`tau2 e2e skipped: ${RESULTS} is absent (the shared corpora are not checked out beside the project)`);
const FILES = present ? readdirSync(RESULTS).filter((f) => f.endsWith('.json')).sort() : [];

const TRANSFER = 'transfer_to_human_agents';

interface RawCall { id?: string; name: string; arguments: Record<string, unknown>; requestor?: string }
interface RawToolMessage { role: 'tool'; id: string; requestor?: string; error?: boolean; content?: string | null }
type RawMessage = { role: 'system' | 'user' | 'assistant'; content?: string | null; tool_calls?: RawCall[] | null } | RawToolMessage | { role: 'tool'; tool_messages: RawToolMessage[] };
interface RawResults {
  info: { agent_info: { llm: string }; environment_info: { domain_name: string } };
  tasks: { id: string; evaluation_criteria?: { actions?: { name: string; arguments: Record<string, unknown>; requestor?: string }[] | null } | null }[];
  simulations: { id: string; task_id: string; trial: number; termination_reason: string; reward_info: { reward: number } | null; messages: RawMessage[] }[];
}
type Simulation = RawResults['simulations'][number];

/** tau2's own effect classes, read from its source: `@is_tool(ToolType.WRITE)` changes the database. */
function tau2Writes(domain: string): Set<string> {
  const source = readFileSync(join(CORPUS, 'source', `${domain}__tools.py`), 'utf8');
  return new Set([...source.matchAll(/@is_tool\(ToolType\.WRITE\)\s*\n\s*def (\w+)/g)].map((m) => m[1]!));
}

/** Keys sorted at every depth; numbers print as JSON prints them, so 2.0 and 2 are one value. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortedKeys(v)]));
  return value;
}
const effectKey = (name: string, args: Record<string, unknown>) => `${name}:${JSON.stringify(sortedKeys(args))}`;

/** The agent's tool calls of a simulation, each with whether its answer says `error: true`; unanswered calls have none. */
function agentCalls(sim: Simulation): { call: RawCall; failed: boolean | undefined }[] {
  const answers = sim.messages.flatMap((m) => (m.role !== 'tool' ? [] : 'tool_messages' in m ? m.tool_messages : [m as RawToolMessage])).filter((t) => t.requestor !== 'user');
  return sim.messages
    .filter((m) => m.role === 'assistant')
    .flatMap((m) => ('tool_calls' in m ? (m.tool_calls ?? []) : []))
    .filter((c) => c.requestor !== 'user')
    .map((call) => {
      const answer = answers.find((a) => a.id === call.id);
      return { call, failed: answer ? answer.error === true : undefined };
    });
}

type Expected = NonNullable<NonNullable<RawResults['tasks'][number]['evaluation_criteria']>['actions']>;
function simulationAgrees(sim: Simulation, expected: Expected, writes: ReadonlySet<string>): boolean {
  const made = agentCalls(sim).filter((c) => c.failed === false && writes.has(c.call.name)).map((c) => effectKey(c.call.name, c.call.arguments)).sort();
  const truth = expected.filter((a) => a.requestor !== 'user' && writes.has(a.name)).map((a) => effectKey(a.name, a.arguments)).sort();
  return made.length === truth.length && made.every((k, i) => k === truth[i]);
}

/**
 * `compare`'s pairwise test, computed here from two raw files on the same tasks: the
 * (task, trial) pairs both files hold, each case the majority of those trials (a tie
 * decides nothing), the reference being the first file's expected actions.
 */
function pairedEffectsOf(a: RawResults, b: RawResults, writes: ReadonlySet<string>) {
  const expected = new Map(a.tasks.map((t) => [String(t.id), t.evaluation_criteria?.actions ?? []]));
  const inB = new Map(b.simulations.map((s) => [`${s.task_id}#${s.trial}`, s]));
  const perTask = new Map<string, { a: number; b: number; n: number }>();
  let common = 0;
  for (const sa of a.simulations) {
    const sb = inB.get(`${sa.task_id}#${sa.trial}`);
    if (!sb) continue;
    common++;
    const t = perTask.get(String(sa.task_id)) ?? { a: 0, b: 0, n: 0 };
    perTask.set(String(sa.task_id), t);
    t.n++;
    if (simulationAgrees(sa, expected.get(String(sa.task_id))!, writes)) t.a++;
    if (simulationAgrees(sb, expected.get(String(sa.task_id))!, writes)) t.b++;
  }
  const majority = (k: number, n: number) => (k * 2 === n ? null : k * 2 > n);
  const cases = [...perTask.values()].map((t) => [majority(t.a, t.n), majority(t.b, t.n)] as const).filter(([x, y]) => x !== null && y !== null);
  const aOnly = cases.filter(([x, y]) => x && !y).length;
  const bOnly = cases.filter(([x, y]) => !x && y).length;
  const [one, other] = [mcnemarMidP(aOnly, bOnly), mcnemarMidP(bOnly, aOnly)];
  return { common, pairs: cases.length, aOnly, bOnly, midP: one === null || other === null ? null : Math.min(1, 2 * Math.min(one, other)) };
}

/**
 * DESIGN's effects agreement, computed here from the raw file: a simulation agrees when the
 * multiset of the agent's effects (answered calls of a write tool whose answer is not
 * `error: true`, by name and canonical arguments) equals that of the task's expected
 * assistant actions of write tools. The task is the unit: each weighs the share of its trials that agree.
 */
function effectsAgreementOf(raw: RawResults, writes: ReadonlySet<string>) {
  const tasks = new Map(raw.tasks.map((t) => [String(t.id), t]));
  const perTask = new Map<string, { trials: number; agreeing: number }>();
  let agreeing = 0;
  let n = 0;
  for (const sim of raw.simulations) {
    const expected = tasks.get(String(sim.task_id))?.evaluation_criteria?.actions;
    if (!expected) continue;
    n++;
    const task = perTask.get(String(sim.task_id)) ?? { trials: 0, agreeing: 0 };
    perTask.set(String(sim.task_id), task);
    task.trials++;
    if (simulationAgrees(sim, expected, writes)) {
      agreeing++;
      task.agreeing++;
    }
  }
  const list = [...perTask.values()];
  return { agreeing, n, cases: list.length, share: list.reduce((sum, t) => sum + t.agreeing / t.trials, 0) };
}

/** How each run ended, from the raw file: a step or error limit aborts it, else an answered transfer escalates it. */
function outcomesOf(raw: RawResults) {
  const counts = { completed: 0, escalated: 0, aborted: 0 };
  for (const sim of raw.simulations) {
    if (sim.termination_reason === 'max_steps' || sim.termination_reason === 'too_many_errors') counts.aborted++;
    else if (agentCalls(sim).some((c) => c.call.name === TRANSFER && c.failed === false)) counts.escalated++;
    else counts.completed++;
  }
  return counts;
}

interface RunJson {
  metrics: { effectsAgreement: { rate: number | null; n: number; successes: number; ci95: [number, number] | null; trials?: { successes: number; n: number } }; meanToolCalls: number; escalationRate: number | null; agreement: { n: number } };
  counts: Record<string, unknown>;
}

describe.skipIf(!present)('import tau2: every result file under ../shared/corpora/tau2/results (needs ../shared/corpora/tau2)', () => {
  let dir: string;
  let cleanup: () => void;
  const raws = new Map<string, RawResults>();
  const traces = new Map<string, Trace[]>();
  const jsonl = (file: string) => `traces/tau2/${file.replace(/\.json$/, '.jsonl')}`;

  beforeAll(async () => {
    ({ dir, cleanup } = copyExample());
    mkdirSync(join(dir, 'traces', 'tau2'), { recursive: true });
    mkdirSync(join(dir, 'suites'), { recursive: true });
    for (const file of FILES) {
      const raw = JSON.parse(readFileSync(join(RESULTS, file), 'utf8')) as RawResults;
      raws.set(file, raw);
      const imported = await cli(dir, 'import', 'tau2', join(RESULTS, file), '--out', jsonl(file), '--strict');
      expect(imported).toEqual({ code: 0, stdout: `${raw.simulations.length} trace(s) written to ${jsonl(file)}\n`, stderr: '' });
      traces.set(
        file,
        readFileSync(join(dir, jsonl(file)), 'utf8')
          .split('\n')
          .flatMap((line, i) => {
            const parsed = parseTraceLine(line, file, i + 1);
            if (parsed && !parsed.ok) throw new Error(JSON.stringify(parsed.issues));
            return parsed ? [parsed.trace] : [];
          }),
      );
    }
  });
  afterAll(() => cleanup?.());

  it('finds the result files the corpus manifest lists', () => {
    const manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { files: { file: string; simulations: number }[] };
    expect(FILES).toEqual(manifest.files.map((f) => f.file.replace(/^results\//, '')).sort());
    for (const f of manifest.files) expect(raws.get(f.file.replace(/^results\//, ''))!.simulations).toHaveLength(f.simulations);
  });

  it('writes traces that `shadowgate validate` accepts', async () => {
    const checked = await cli(dir, 'validate', 'traces/tau2');
    expect(checked.stdout).toContain(`${FILES.length} file(s) checked, 0 problem(s)`);
    expect(checked.code).toBe(0);
  });

  it.each(FILES)('%s: one trace per simulation with its task, trial, reward, tool calls and failed calls as in the raw file', (file) => {
    const raw = raws.get(file)!;
    const list = traces.get(file)!;
    const byKey = new Map(list.map((t) => [`${t.caseId} ${t.trial}`, t]));
    expect(byKey.size).toBe(raw.simulations.length);
    const { domain, policy } = tau2Domain(raw.info.environment_info.domain_name);
    expect(new Set(list.map((t) => `${t.workflow} ${t.agent?.promptVersion} ${t.metadata?.agentLlm}`))).toEqual(new Set([`tau2-${domain} ${policy} ${raw.info.agent_info.llm}`]));
    // the success rate (reward 1), as tau2 recorded it
    const successRate = raw.simulations.filter((s) => s.reward_info?.reward === 1).length / raw.simulations.length;
    expect(list.filter((t) => t.metadata?.reward === 1).length / list.length).toBe(successRate);
    const tasks = new Map(raw.tasks.map((t) => [String(t.id), t]));
    for (const sim of raw.simulations) {
      const trace = byKey.get(`${sim.task_id} ${sim.trial}`)!;
      const calls = agentCalls(sim);
      const tools = trace.steps.filter((s) => s.type === 'tool');
      // the agent's answered calls are its tool steps, the failed ones failed; no call of the user's among them
      expect(tools.map((s) => s.name)).toEqual(calls.filter((c) => c.failed !== undefined).map((c) => c.call.name));
      expect(tools.map((s) => s.error !== undefined)).toEqual(calls.filter((c) => c.failed !== undefined).map((c) => c.failed));
      const userCalls = sim.messages.flatMap((m) => (m.role === 'user' && 'tool_calls' in m ? (m.tool_calls ?? []) : []));
      expect(((trace.metadata?.userToolCalls ?? []) as { name: string }[]).map((c) => c.name)).toEqual(userCalls.map((c) => c.name));
      expect(trace.human?.actions).toEqual(tasks.get(String(sim.task_id))?.evaluation_criteria?.actions?.filter((a) => a.requestor !== 'user').map((a) => ({ name: a.name, args: a.arguments })));
      const aborted = sim.termination_reason === 'max_steps' || sim.termination_reason === 'too_many_errors';
      const transferred = calls.some((c) => c.call.name === TRANSFER && c.failed === false);
      expect(trace.outcome?.status).toBe(aborted ? 'aborted' : transferred ? 'escalated' : 'completed');
    }
  });

  it('keeps the telecom user simulator’s own tool calls out of the agent’s steps', () => {
    const telecom = FILES.filter((f) => raws.get(f)!.info.environment_info.domain_name === 'telecom');
    expect(telecom.length).toBeGreaterThan(0);
    for (const file of telecom) {
      const userCalls = raws.get(file)!.simulations.flatMap((s) => s.messages).flatMap((m) => (m.role === 'user' && 'tool_calls' in m ? (m.tool_calls ?? []) : []));
      expect(userCalls.length).toBeGreaterThan(0);
      const names = new Set(userCalls.map((c) => c.name));
      expect(traces.get(file)!.flatMap((t) => t.steps).filter((s) => s.type === 'tool' && names.has(s.name))).toEqual([]);
    }
  });

  it.each(FILES)('%s: the recorded runs against the expected actions, with and without the transfer counted as an effect: effects agreement, tool calls per run, outcomes and escalation rate as computed from the raw file', async (file) => {
    const raw = raws.get(file)!;
    const { domain } = tau2Domain(raw.info.environment_info.domain_name);
    const catalogFile = join(ROOT, 'fixtures', `tau2-${domain}`, 'tools.yaml');
    const catalog = await loadToolCatalog(catalogFile);
    const writes = tau2Writes(domain);
    // The catalog's effects are tau2's writes and the transfer (an escalation is something the agent did).
    expect(new Set(catalog.tools.filter((t) => t.effect !== 'read').map((t) => t.name))).toEqual(new Set([...writes, TRANSFER]));
    // The same catalog with the transfer as a read: the other way to count.
    const doc = parse(readFileSync(catalogFile, 'utf8')) as { tools: { name: string; effect: string }[] };
    const noTransfer = join(dir, `tools-${domain}-no-transfer.yaml`);
    writeFileSync(noTransfer, stringify({ tools: doc.tools.map((t) => (t.name === TRANSFER ? { ...t, effect: 'read' } : t)) }));

    for (const [tools, counted] of [[catalogFile, new Set([...writes, TRANSFER])], [noTransfer, writes]] as const) {
      const suite = join(dir, 'suites', 'tau2.yaml');
      writeFileSync(
        suite,
        [
          'name: tau2',
          'phase: shadow',
          `traces: ["../${jsonl(file)}"]`,
          `tools: ${tools}`,
          'reference: human',
          'candidate:',
          '  kind: recorded',
          `  traces: ["../${jsonl(file)}"]`,
          'gate:',
          '  effectsAgreement: { min: 0.5, bound: lower, dryRun: true }',
        ].join('\n'),
      );
      const run = await cli(dir, 'run', 'suites/tau2.yaml', '--json', 'out.json', '--db', join(dir, 'db.sqlite'));
      expect(run.code).toBe(0);
      const { metrics, counts } = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as RunJson;
      const expected = effectsAgreementOf(raw, counted);
      expect(metrics.effectsAgreement).toMatchObject({ n: expected.cases, successes: expect.closeTo(expected.share, 12), rate: expect.closeTo(expected.share / expected.cases, 12) });
      // the runs themselves, where a case has several trials (the figure over runs is theirs, the interval over cases)
      if (expected.n > expected.cases) expect(metrics.effectsAgreement.trials).toEqual({ successes: expected.agreeing, n: expected.n });
      expect(metrics.effectsAgreement.ci95).toEqual(wilsonInterval(expected.share, expected.cases));
      // tool calls per run: the agent's answered calls, never the user simulator's
      const callsPerRun = raw.simulations.reduce((sum, s) => sum + agentCalls(s).filter((c) => c.failed !== undefined).length, 0) / raw.simulations.length;
      expect(metrics.meanToolCalls).toBeCloseTo(callsPerRun, 12);
      // how the runs ended, and the escalation rate, as the run counts them
      const outcomes = outcomesOf(raw);
      expect(counts).toMatchObject(outcomes);
      expect(metrics.escalationRate).toBeCloseTo(outcomes.escalated / raw.simulations.length, 12);
      // tau2 records no decisions: the gate judges effects
      expect(metrics.agreement.n).toBe(0);
    }
  });

  it('compares recorded runs of one domain on the tasks and trials they share: another model, another policy (docs/importers.md)', async () => {
    const airline = FILES.filter((f) => tau2Domain(raws.get(f)!.info.environment_info.domain_name).domain === 'airline');
    const byPolicy = (policy: string, model: string) => airline.find((f) => raws.get(f)!.info.environment_info.domain_name === policy && raws.get(f)!.info.agent_info.llm.endsWith(`/${model}`))!;
    const base = byPolicy('airline', 'grok-3-mini');
    const others = { tighter: byPolicy('airline_tighter_policy', 'grok-3-mini'), 'grok-4-fast': byPolicy('airline', 'grok-4-fast-reasoning') };
    writeFileSync(
      join(dir, 'suites', 'tau2-compare.yaml'),
      ['name: tau2-airline', 'phase: shadow', `traces: ["../${jsonl(base)}"]`, `tools: ${join(ROOT, 'fixtures', 'tau2-airline', 'tools.yaml')}`, 'reference: human', 'candidate:', '  kind: recorded', `  traces: ["../${jsonl(base)}"]`].join('\n'),
    );
    const compared = await cli(dir, 'compare', 'suites/tau2-compare.yaml', ...Object.entries(others).flatMap(([name, file]) => ['--candidate', `${name}=${jsonl(file)}`]), '--json', 'cmp.json', '--db', join(dir, 'cmp.sqlite'));
    expect(compared.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'cmp.json'), 'utf8')) as { candidates: { name: string; counts: { unpaired: number }; metrics: { escalationRate: number | null } }[]; pairwise: { a: string; b: string; pairs: number; aOnly: number; bOnly: number; midP: number | null; over: string }[] };
    const writes = new Set([...tau2Writes('airline'), TRANSFER]);
    for (const [name, file] of Object.entries(others)) {
      const expected = pairedEffectsOf(raws.get(base)!, raws.get(file)!, writes);
      expect(doc.pairwise.find((p) => p.a === 'current' && p.b === name)).toEqual({ a: 'current', b: name, over: 'effects', pairs: expected.pairs, aOnly: expected.aOnly, bOnly: expected.bOnly, midP: expected.midP });
      // the suite's runs without a partner in the other file are unpaired, not wrong
      expect(doc.candidates.find((c) => c.name === name)!.counts.unpaired).toBe(raws.get(base)!.simulations.length - expected.common);
    }
    // the escalation rates the docs quote (0.81 and 0.25 on the shared files): the transfers of each file's runs
    const escalation = (file: string) => outcomesOf(raws.get(file)!).escalated / raws.get(file)!.simulations.length;
    expect(doc.candidates.find((c) => c.name === 'current')!.metrics.escalationRate).toBeCloseTo(escalation(base), 12);
    expect(doc.candidates.find((c) => c.name === 'tighter')!.metrics.escalationRate).toBeCloseTo(escalation(others.tighter), 12);
    // the other model shares few (task, trial) pairs with the suite's runs; the other policy all of them
    expect(doc.candidates.find((c) => c.name === 'grok-4-fast')!.counts.unpaired).toBeGreaterThan(0);
    expect(doc.candidates.find((c) => c.name === 'tighter')!.counts.unpaired).toBe(0);
    expect(compared.stdout).toContain('(effects): no trace holds a reference decision');
  });
});
