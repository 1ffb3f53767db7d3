import { createCassetteRecorder, loadCassette } from '../providers/cassette.js';
import { createRateLimiter, type Clock } from '../providers/rate-limit.js';
import { ANTHROPIC_API_BASE, API_KEY_ENV, createProvider, OPENAI_API_BASE, parseModelSpec, type ApiProvider } from '../providers/registry.js';
import { apiKeyFor, createTransport, type ExchangeSink, type TransportStats } from '../providers/transport.js';
import type { ModelProvider } from '../providers/types.js';
import type { CompiledPolicy } from '../policy/evaluate.js';
import { createToolGuard } from '../replay/guard.js';
import { createMockToolbox } from '../replay/mock-tools.js';
import { EVICTED, moduleRunner, type LlmAccess } from '../replay/module-candidate.js';
import { createCandidatePool, type RunLevelAttempt, type SandboxAllowances } from '../replay/pool/pool.js';
import { createCommandPool } from '../replay/command/agent-pool.js';
import { createGateway, gatewayEnv } from '../replay/command/gateway.js';
import { networkLoosening } from '../replay/command/sandbox.js';
import { PLACEHOLDER_KEY } from '../replay/pool/protocol.js';
import type { RunLevelViolation } from '../metrics/summary.js';
import { recordedOutcome } from '../replay/replay-trace.js';
import { ReplaySession, RunBudget } from '../replay/session.js';
import type { CandidateOutcome } from '../replay/supervise.js';
import { loadPromptTemplate, toolLoopRunner } from '../replay/tool-loop.js';
import type { ResolvedSuite } from '../suite/load.js';
import type { Store } from '../store/types.js';
import { readTraceFile } from '../trace/reader.js';
import { caseIdOf, type Trace } from '../trace/schema.js';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ConfigError, InternalError, type Issue } from '../errors.js';
import type { Redactor } from '../secrets.js';
import { runRedactor } from './run-secrets.js';

/** A candidate ready to run: `play` gives its outcome on one trace, or undefined when it has no partner. */
export interface PreparedCandidate {
  play(trace: Trace, trial: number): Promise<CandidateOutcome | undefined>;
  /** Problems found while preparing (bad lines in a recorded candidate's traces). */
  issues: Issue[];
  /** Candidate traces that no suite trace was paired with (recorded candidates only), with their case. */
  unusedPartners(): { id: string; caseId: string }[];
  /**
   * Recorded candidates: the trials a suite trace is played as, one per candidate trace it is
   * paired with (several where the suite has one trace of a case and the candidate several: its
   * trials); `extraTrials` is how many results that adds to one per suite trace, for the progress
   * total. Others run the run's own trials.
   */
  trialsOf?(trace: Trace): number[];
  extraTrials?: number;
  /** A trial not played here (its result was stored before, on `--resume`): its partner is not unused. */
  passed?(trace: Trace, trial: number): void;
  /** What the model transports did: requests, cache and cassette hits, retries. */
  modelStats(): TransportStats;
  /** Writes the cassette when recording; returns how many exchanges it holds. */
  finish(now: Date): number | undefined;
  /** Collects the exchanges to record, when recording: a second run of the same candidate adds to it. */
  recorder?: ExchangeSink;
  /** Removes the secrets this run holds from a text (a provider's error message may echo a key): the run's Redactor. */
  redact(text: string): string;
  /** Ends the candidate's processes (module candidates); nothing runs after it. */
  close(): Promise<void>;
  /** Violations outside any trace (module candidates): strays, and denials at import time. Complete once `close` resolved. */
  runLevelViolations(): RunLevelViolation[];
  /** What the suite's `sandbox.allow` opens, in words, for the summary and the reports. */
  sandboxLoosenings: string[];
}

export interface ModelOptions {
  /** Use the response cache in the store. @default true */
  cache?: boolean;
  /** `record`: write every exchange to the file; `replay-only`: answer only from it. */
  cassette?: { mode: 'record' | 'replay-only'; file: string };
  /** Where API keys are read from. @default process.env */
  env?: Record<string, string | undefined>;
  /** The network, for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
  clock?: Clock;
  /** Overrides the provider a `tool-loop` candidate's model names. */
  provider?: ModelProvider;
  /** 1 for the second run of an A/A pair: model calls independent of the first run's. @default 0 */
  replica?: number;
  /** Record into this collector (another run's, which writes the cassette) instead of one of this run's own. */
  sharedRecorder?: ExchangeSink;
  /** Child processes a module candidate runs in. @default the machine's available cores */
  workers?: number;
  /** The run's secrets, redacted from errors and the cassette. @default the values of the provider keys and the suite's `apiKeyEnv` in `env` */
  redactor?: Redactor;
}

/**
 * Loads whatever the candidate needs once per run: its module, prompt template, provider or recorded traces.
 * `policy` is the suite's policy, compiled once for the run, whose refusing rules the tool guard enforces.
 */
export async function prepareCandidate(suite: ResolvedSuite, store: Store, options: ModelOptions = {}, policy?: CompiledPolicy): Promise<PreparedCandidate> {
  const { candidate, catalog, budgets } = suite;
  const runBudget = new RunBudget(budgets.run);
  const guard = createToolGuard(catalog, policy);
  const session = (trace: Trace) =>
    new ReplaySession(trace, createMockToolbox(trace, catalog, suite.mocks), budgets, runBudget, guard);
  const models = createModelAccess(suite, store, options);
  const env = options.env ?? process.env;
  const redact = (options.redactor ?? runRedactor(env, [suite])).text;
  const base = {
    issues: [],
    unusedPartners: () => [],
    modelStats: models.stats,
    finish: models.finish,
    recorder: models.recorder,
    redact,
    close: async () => {},
    runLevelViolations: () => [],
    sandboxLoosenings: [],
  };

  switch (candidate.kind) {
    case 'command': {
      const llm = modelEndpoints(candidate, models.fetchFor, env, suite.pricing);
      const network = suite.sandbox?.network ?? 'namespace';
      const gateway = createGateway({ catalog, llm });
      const workers = options.workers ?? availableParallelism();
      const pool = createCommandPool({
        command: candidate.command,
        cwd: candidate.cwd!,
        // The program search path and the locale besides the listed names: an agent is a program like any other.
        env: { ...pick({ PATH: env.PATH ?? process.env.PATH, LANG: env.LANG }), ...agentEnv(suite, candidate.env, 'candidate.env', env) },
        protocol: candidate.protocol,
        workers,
        network,
        gateway,
        gatewayEnv,
        startTimeoutMs: candidate.startTimeoutMs,
      });
      try {
        await pool.start();
      } catch (error) {
        await pool.close();
        await gateway.close();
        throw error;
      }
      const runner = moduleRunner(pool, catalog, budgets.maxWallMs ?? DEFAULT_MODULE_WALL_MS, llm);
      // Each process runs one trace at a time: a trace waits for a free one before its time starts.
      const slots = semaphore(workers);
      return {
        ...base,
        async play(trace, trial) {
          const release = await slots.acquire();
          try {
            // A trace handed to a process that then ended by itself (it answered its previous trace and exited) runs again, on a fresh one.
            for (let attempt = 1; ; attempt++) {
              const outcome = await runner(session(trace), trial);
              if (outcome.error?.code !== EVICTED || attempt >= 3) return outcome;
            }
          } finally {
            release();
          }
        },
        close: async () => {
          await pool.close();
          await gateway.close();
        },
        // The pool's include the gateway's: requests on a listener while no trace was bound to it.
        runLevelViolations: () => pool.runLevel().map(runLevelViolation),
        sandboxLoosenings: [networkLoosening(network)].filter((l): l is string => l !== null),
      };
    }
    case 'module': {
      // The model APIs the candidate's code may reach; a suite's `baseURL` comes first, so that `ctx.llm.openai` uses it.
      const llm = modelEndpoints(candidate, models.fetchFor, env, suite.pricing);
      const allow = sandboxAllowances(suite);
      const pool = createCandidatePool({
        module: candidate.module,
        workers: options.workers ?? availableParallelism(),
        llm: { openai: llm.endpoints.find((e) => e.provider === 'openai')?.baseURL, anthropic: ANTHROPIC_API_BASE },
        tools: catalog.tools.map((t) => t.name),
        allow,
        env: childEnv(suite, env),
        importTimeoutMs: suite.sandbox?.importTimeoutMs,
        maxOutcomeBytes: suite.sandbox?.maxOutcomeBytes,
        // Tool calls are answered where the candidate runs, and replayed by each trace's session here.
        local: { catalog, ...(suite.policy ? { policy: suite.policy } : {}), mocks: suite.mocks, budgets: { maxSteps: budgets.maxSteps, maxRepeatedCalls: budgets.maxRepeatedCalls } },
      });
      try {
        await pool.start();
      } catch (error) {
        await pool.close();
        throw error;
      }
      // Candidate code is bounded in time whatever the suite says: a run() that never settles would hang the run.
      const runner = moduleRunner(pool, catalog, budgets.maxWallMs ?? DEFAULT_MODULE_WALL_MS, llm);
      return {
        ...base,
        // A trace whose process was killed for another trace's budget did nothing wrong: it runs again, on a fresh process.
        async play(trace, trial) {
          for (let attempt = 1; ; attempt++) {
            const outcome = await runner(session(trace), trial);
            if (outcome.error?.code !== EVICTED || attempt >= 3) return outcome;
          }
        },
        close: () => pool.close(),
        runLevelViolations: () => pool.runLevel().map(runLevelViolation),
        sandboxLoosenings: loosenings(allow),
      };
    }
    case 'tool-loop': {
      const spec = parseModelSpec(candidate.model);
      if (!spec.ok) throw new InternalError(spec.message); // validated when the suite was loaded
      const provider =
        options.provider ??
        createProvider(spec.provider, () => ({
          fetch: models.fetchFor(spec.provider),
          apiKey: apiKeyFor(API_KEY_ENV[spec.provider as ApiProvider], candidate, env),
          baseURL: candidate.baseURL,
        }));
      const runner = toolLoopRunner({
        provider,
        model: spec.model,
        catalog,
        decisionSchema: candidate.decisionSchema,
        params: candidate.params,
        renderPrompt: candidate.prompt ? await loadPromptTemplate(candidate.prompt) : undefined,
        promptVersion: candidate.promptVersion,
        pricing: suite.pricing,
        maxWallMs: budgets.maxWallMs,
      });
      return { ...base, play: (trace, trial) => runner(session(trace), trial) };
    }
    case 'recorded': {
      const partners = new Map<string, Trace[]>();
      const issues: Issue[] = [];
      for (const file of candidate.traceFiles) {
        for await (const line of readTraceFile(file)) {
          if (!line.ok) issues.push(...line.issues);
          else {
            const key = caseIdOf(line.trace);
            partners.set(key, [...(partners.get(key) ?? []), line.trace]);
          }
        }
      }
      // The suite's own traces per case (distinct ids, in file order) and whether each has a `trial`: how the two sides pair.
      type Own = Pick<Trace, 'id' | 'caseId' | 'trial'>;
      const own = new Map<string, { first: Own; index: Map<string, number>; trials: Set<number>; allTrial: boolean }>();
      for (const file of suite.traceFiles) {
        for await (const line of readTraceFile(file)) {
          if (!line.ok) continue;
          const { id, caseId, trial } = line.trace;
          const key = caseIdOf(line.trace);
          const o = own.get(key) ?? { first: { id, caseId, trial }, index: new Map<string, number>(), trials: new Set<number>(), allTrial: true };
          own.set(key, o);
          if (o.index.has(id)) continue; // a repeated id is refused by the run: it is no trial
          o.index.set(id, o.index.size);
          if (trial === undefined || o.trials.has(trial)) o.allTrial = false;
          else o.trials.add(trial);
        }
      }
      const distinctTrials = (list: readonly Trace[]) => list.every((t) => t.trial !== undefined) && new Set(list.map((t) => t.trial)).size === list.length;
      /**
       * Several traces of one case on one side are its trials. Several suite traces of a case and
       * every trace of it on both sides with a `trial` of its own: paired by it. Otherwise by
       * order: a case's one suite trace is played once per candidate trace (trial i with the
       * i-th); a case's one candidate trace is each suite trace's partner; several on both sides
       * pair up, the j-th with the j-th. A candidate trace of a judged case left without a partner
       * is missing evidence (the run's coverage).
       */
      const pairing = (trace: Own) => {
        const key = caseIdOf(trace);
        const list = partners.get(key) ?? [];
        const o = own.get(key);
        const several = (o?.index.size ?? 1) > 1;
        const byTrial = several && (o?.allTrial ?? false) && list.length > 0 && distinctTrials(list);
        return { list, byTrial, several, place: o?.index.get(trace.id) ?? 0 };
      };
      const trialsOf = (trace: Own): number[] => {
        const { list, byTrial, several, place } = pairing(trace);
        if (byTrial) return [trace.trial!];
        if (!several) return list.length > 1 ? list.map((_, i) => i) : [trace.trial ?? 0];
        return [trace.trial ?? place];
      };
      const partnerOf = (trace: Own, trial: number): Trace | undefined => {
        const { list, byTrial, several, place } = pairing(trace);
        if (byTrial) return list.find((t) => t.trial === trial);
        if (!several) return list.length > 1 ? list[trial] : list[0];
        return list.length === 1 ? list[0] : list[place];
      };
      let extraTrials = 0;
      for (const o of own.values()) if (o.index.size === 1) extraTrials += trialsOf(o.first).length - 1;
      const used = new Set<Trace>();
      return {
        ...base,
        issues,
        trialsOf,
        extraTrials,
        unusedPartners: () => [...partners.values()].flat().filter((t) => !used.has(t)).map((t) => ({ id: t.id, caseId: caseIdOf(t) })),
        async play(trace, trial) {
          const partner = partnerOf(trace, trial);
          if (!partner) return undefined;
          used.add(partner);
          return recordedOutcome(partner);
        },
        passed(trace, trial) {
          const partner = partnerOf(trace, trial);
          if (partner) used.add(partner);
        },
      };
    }
  }
}

/**
 * One transport per provider for the run (so each has its own rate limits), all
 * sharing the response cache in the store and the cassette.
 */
function createModelAccess(suite: ResolvedSuite, store: Store, options: ModelOptions) {
  const limits = suite.candidate.kind === 'recorded' ? undefined : suite.candidate.limits;
  const cassette = options.cassette?.mode === 'replay-only' ? loadCassette(options.cassette.file) : undefined;
  const own = options.cassette?.mode === 'record' && !options.sharedRecorder ? createCassetteRecorder(options.redactor ?? runRedactor(options.env ?? process.env, [suite])) : undefined;
  const recorder = options.cassette?.mode === 'record' ? (options.sharedRecorder ?? own) : undefined;
  const transports = new Map<string, ReturnType<typeof createTransport>>();
  const fetchFor = (provider: string): typeof fetch => {
    let transport = transports.get(provider);
    if (!transport) {
      transport = createTransport({
        mode: cassette ? 'replay-only' : 'live',
        cache: options.cache === false || cassette ? undefined : { get: (k) => store.getExchange(k), put: (e) => store.putExchange(e) },
        cassette,
        recorder,
        limiter: limits ? createRateLimiter(limits, options.clock) : undefined,
        retry: limits,
        fetch: options.fetch,
        clock: options.clock,
        replica: options.replica,
      });
      transports.set(provider, transport);
    }
    return transport.fetch;
  };
  return {
    fetchFor,
    stats(): TransportStats {
      const total: TransportStats = { requests: 0, cacheHits: 0, cassetteHits: 0, network: 0, retries: 0 };
      for (const { stats } of transports.values()) {
        for (const k of Object.keys(total) as (keyof TransportStats)[]) total[k] += stats[k];
      }
      return total;
    },
    recorder,
    finish(now: Date): number | undefined {
      return own && options.cassette ? own.save(options.cassette.file, suite.name, now) : undefined;
    },
  };
}

/** An attempt made outside any trace, as the run reports it. */
function runLevelViolation({ attempt, startedBy }: RunLevelAttempt): RunLevelViolation {
  return attempt.kind === 'denied'
    ? { kind: 'denied_capability', capability: { kind: attempt.capability ?? 'unknown', target: attempt.target }, startedBy, message: `${attempt.capability} ${attempt.target} denied by the sandbox's permission model` }
    : attempt.kind === 'protocol'
      ? {
          kind: 'protocol_violation',
          startedBy,
          // An agent process's stdout outside any answer is recorded and passed over; a module's child that sent the parent a message it refuses is killed.
          message: attempt.method === 'STDOUT' ? `an agent process wrote ${attempt.target} outside any answer: ${attempt.why}` : `a candidate's process sent ${attempt.why}; refused, and the process was killed`,
        }
      : { kind: 'stray_request', request: { method: attempt.method, url: attempt.target }, startedBy, message: `${attempt.method} ${attempt.target} blocked: ${attempt.why}` };
}

/** The entries of `values` that are set. */
function pick(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
}

/** At most `n` holders at once; `acquire` resolves with the function that gives the place back. */
function semaphore(n: number) {
  let free = Math.max(1, n);
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    acquire(): Promise<() => void> {
      if (free > 0) {
        free--;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => waiting.push(() => resolve(release)));
    },
  };
}

/**
 * The model APIs a candidate's code may reach, answered through the provider layer with the run's
 * key: a suite's `baseURL` first (so that `ctx.llm.openai` and a command's gateway use it), then
 * the OpenAI and Anthropic APIs.
 */
function modelEndpoints(
  candidate: { baseURL?: string; apiKeyEnv?: string },
  fetchFor: (provider: string) => typeof fetch,
  env: Record<string, string | undefined>,
  pricing: ResolvedSuite['pricing'],
): LlmAccess {
  const openai = { provider: 'openai' as const, fetch: fetchFor('openai') };
  return {
    endpoints: [
      ...(candidate.baseURL ? [{ ...openai, baseURL: candidate.baseURL, apiKey: apiKeyFor(API_KEY_ENV.openai, candidate, env) }] : []),
      { ...openai, baseURL: OPENAI_API_BASE, apiKey: apiKeyFor(API_KEY_ENV.openai, {}, env) },
      { provider: 'anthropic' as const, fetch: fetchFor('anthropic'), baseURL: ANTHROPIC_API_BASE, apiKey: apiKeyFor(API_KEY_ENV.anthropic, {}, env) },
    ],
    pricing,
  };
}

/** A module candidate's `maxWallMs` per trace when the suite sets none. */
export const DEFAULT_MODULE_WALL_MS = 120_000;

/** The suite's `sandbox.allow`, its folders made absolute (relative to the suite file). */
function sandboxAllowances(suite: ResolvedSuite): SandboxAllowances {
  const allow = suite.sandbox?.allow ?? [];
  return {
    childProcess: allow.includes('child-process'),
    worker: allow.includes('worker'),
    addons: allow.includes('addons'),
    fsWrite: allow.flatMap((a) => (typeof a === 'object' ? [resolve(dirname(suite.file), a['fs-write'])] : [])),
  };
}

function loosenings(allow: SandboxAllowances): string[] {
  return [
    ...(allow.childProcess ? ['child processes (candidate code may start programs, which the sandbox does not follow)'] : []),
    ...(allow.worker ? ['worker threads'] : []),
    ...(allow.addons ? ['native addons (native code is not intercepted)'] : []),
    ...allow.fsWrite.map((dir) => `writes to ${dir}`),
  ];
}

/**
 * The environment of a candidate's processes: NODE_ENV, TZ and the variables the suite lists in
 * `sandbox.env`, never a provider key; the SDKs' key variables hold a placeholder, so that a
 * client constructed from the environment works (the parent answers its requests with the run's key).
 */
function childEnv(suite: ResolvedSuite, env: Record<string, string | undefined>): Record<string, string> {
  const out = agentEnv(suite, suite.sandbox?.env ?? [], 'sandbox.env', env);
  for (const name of Object.values(API_KEY_ENV)) out[name] = PLACEHOLDER_KEY;
  return out;
}

/** NODE_ENV, TZ and the variables the suite lists (at `path`), from shadowgate's environment; a provider key listed there is a config error. */
function agentEnv(suite: ResolvedSuite, listed: readonly string[], path: string, env: Record<string, string | undefined>): Record<string, string> {
  const candidate = suite.candidate;
  const secrets = new Set<string>([...Object.values(API_KEY_ENV), ...((candidate.kind === 'module' || candidate.kind === 'command') && candidate.apiKeyEnv ? [candidate.apiKeyEnv] : [])]);
  const leaking = listed.filter((name) => secrets.has(name));
  if (leaking.length > 0) {
    throw new ConfigError([{ file: suite.file, path, message: `${leaking.join(', ')} hold(s) a provider key, which never reaches candidate code; model requests get the run's key from shadowgate` }]);
  }
  const out: Record<string, string> = {};
  for (const name of ['NODE_ENV', 'TZ', ...listed]) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
