import { z } from 'zod';
import { PhaseSchema } from '../trace/schema.js';
import { PromotionConfigSchema } from '../phases/promotion.js';
import { PolicyGateSchema, PolicySchema } from '../policy/schema.js';

// Every key carries a `.describe()`: it is what an editor shows from the JSON Schema
// (`shadowgate schema`) and what docs/configuration.md is generated from (`npm run docs`).

const Rate = z.number().min(0).max(1);
const Globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Provider limits and fault handling for the model calls of a run. */
export const LimitsSchema = z.strictObject({
  concurrency: z.number().int().positive().optional().describe('Model requests in flight at once, per provider.'),
  requestsPerMinute: z.number().positive().optional().describe("Requests per minute, per provider: kept within the provider's limit."),
  tokensPerMinute: z.number().positive().optional().describe('Tokens per minute, per provider.'),
  maxAttempts: z.number().int().min(1).max(20).optional().describe('Attempts per request, the first included; 429 and 5xx are retried. Default 4.'),
  baseDelayMs: z.number().int().nonnegative().optional().describe('First retry delay, doubled each attempt, with jitter; a `retry-after` wins. Default 500.'),
  timeoutMs: z.number().int().positive().optional().describe('Time limit of each attempt. Default 60000.'),
  maxDelayMs: z.number().int().positive().optional().describe("Longest backoff between attempts (a server's `retry-after` is honoured up to 5 minutes). Default 30000."),
});

const limits = LimitsSchema.optional().describe('Provider limits and fault handling for the model calls of a run.');
const baseURL = z.string().url().optional();
const apiKeyEnv = z.string().min(1).optional().describe('The environment variable holding the key for `baseURL`; without it no key is sent there.');

export const ToolLoopCandidateSchema = z.strictObject({
  kind: z.literal('tool-loop').describe('The harness runs a tool-calling loop with a model and a prompt; the model ends by calling `final_decision`.'),
  model: z.string().min(1).describe('`provider:model` (`openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`) or `replay` (the trace\'s own recorded model steps).'),
  baseURL: baseURL.describe('Any OpenAI-compatible server (vLLM, Ollama, llama.cpp).'),
  apiKeyEnv,
  prompt: z.string().min(1).optional().describe('Handlebars template of the system prompt, rendered in strict mode with `{ input, workflow }`; relative to the suite file.'),
  promptVersion: z.string().min(1).optional().describe("Recorded on every model step. Default: the prompt file's name less `.hbs`, e.g. `triage.v4`."),
  decisionSchema: z.record(z.string(), z.unknown()).optional().describe("JSON Schema of the `final_decision` tool's arguments; an answer that does not validate is `invalid_output`."),
  params: z
    .strictObject({
      temperature: z.number().min(0).max(2).optional().describe('Sampling temperature.'),
      topP: z.number().min(0).max(1).optional().describe('Nucleus sampling.'),
      maxTokens: z.number().int().positive().optional().describe('Output tokens per model call.'),
      seed: z.number().int().optional().describe("Sampling seed, where the provider takes one."),
    })
    .optional()
    .describe('Model parameters sent with every call.'),
  limits,
});

export const ModuleCandidateSchema = z.strictObject({
  kind: z.literal('module').describe('Your agent code, run in a sandboxed child process with every tool mocked.'),
  module: z.string().min(1).describe('An ESM module exporting `run(input, ctx)`, relative to the suite file; `ctx.tools.<name>(args)` goes through the mocks.'),
  baseURL: baseURL.describe('Where `ctx.llm.openai` sends its calls (any OpenAI-compatible server).'),
  apiKeyEnv,
  limits,
});

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

export const CommandCandidateSchema = z.strictObject({
  kind: z.literal('command').describe('Any agent process, in any language: shadowgate starts it, hands it traces, answers its model calls through a gateway and its tool calls over MCP, in a network namespace.'),
  command: z.array(z.string().min(1)).min(1).describe('The program and its arguments, e.g. `[python3, agent.py]`; run in `cwd`.'),
  cwd: z.string().min(1).optional().describe('The folder the command runs in, relative to the suite file. Default: the suite file\'s folder.'),
  env: z.array(EnvName).default([]).describe('Environment variables passed on to the agent from shadowgate\'s environment; a provider key here is a config error.'),
  protocol: z
    .enum(['jsonl', 'http'])
    .default('jsonl')
    .describe('`jsonl`: one JSON line per trace on stdin (`{traceId, input, workflow}`), one back on stdout (`{traceId, decision, status?, output?}`). `http`: the same object POSTed to the agent\'s own server on `$SHADOWGATE_AGENT_PORT`.'),
  startTimeoutMs: z.number().int().positive().optional().describe('How long an agent process may take to start (for `http`, to accept connections); past it, it is killed. Default 30000.'),
  baseURL: baseURL.describe('Where the gateway sends the agent\'s OpenAI-compatible requests (any OpenAI-compatible server). Default: the OpenAI API.'),
  apiKeyEnv,
  limits,
});

export const RecordedCandidateSchema = z.strictObject({
  kind: z.literal('recorded').describe('No execution: a second set of recorded traces (e.g. a shadow log).'),
  traces: Globs.describe("Globs of JSONL trace files, paired with the suite's by `caseId` (and `trial`); several traces of a case are its trials (a case's one suite trace is played once per candidate trace of it; several on both sides pair up in order); traces without a partner are listed as unpaired; each must match a file, and each file named by braces (`{w1,w2}.jsonl`) must be there."),
});

export const CandidateSchema = z.discriminatedUnion('kind', [
  ToolLoopCandidateSchema,
  ModuleCandidateSchema,
  CommandCandidateSchema,
  RecordedCandidateSchema,
]);

const PriceSchema = z.strictObject({
  input: z.number().nonnegative().describe('USD per million input tokens.'),
  output: z.number().nonnegative().describe('USD per million output tokens.'),
  cachedInput: z.number().nonnegative().optional().describe('USD per million input tokens served from the prompt cache.'),
  cacheWrite: z.number().nonnegative().optional().describe('USD per million input tokens written to the prompt cache.'),
});

const lowerOrPoint = z
  .enum(['lower', 'point'])
  .default('lower')
  .describe('`lower`: judged on the lower end of the 95% Wilson interval; `point`: on the rate itself.');

/** Every gate check takes `dryRun: true`: measured and shown in every report, but it does not change the verdict. */
const DryRun = { dryRun: z.boolean().optional().describe('Measured and shown in every report, marked as a dry run, but not in the verdict.') };
/**
 * A check; `never` names the values of its fields at which no run could fail it (a rate's `min`
 * of 0, a `max` of 1): refused unless the check is a dry run, since such a check passed a
 * candidate that broke on every trace.
 */
const Check = <T extends z.ZodRawShape>(shape: T, never: Partial<Record<keyof T & string, number>> = {}) =>
  z.strictObject({ ...shape, ...DryRun }).superRefine((parsed, ctx) => {
    const rule = parsed as Record<string, unknown>;
    if (rule.dryRun === true) return;
    for (const [key, value] of Object.entries(never) as [string, number][]) {
      if (rule[key] !== value) continue;
      const [which, bound] = value === 0 ? ['above', 'a min of 0'] : ['below', `a max of ${value}`];
      ctx.addIssue({ code: 'custom', path: [key], message: `must be ${which} ${value}: ${bound} passes every run, and a check that cannot fail gates nothing (to measure a figure without gating on it: dryRun: true)` });
    }
  });
/** A check that no run can fail (a min of 0, a max of 1) would pass a candidate that broke on every trace: refused, pointing at `dryRun`. */
const minRate = (what: string) => Rate.describe(`The lowest ${what} that passes (a rate, 0 to 1; 0, which no run fails, only in a dry run).`);
const maxRate = (what: string) => Rate.describe(`The highest ${what} that passes (a rate, 0 to 1; 1, which no run fails, only in a dry run).`);
const MIN_NEVER = { min: 0 } as const;
const MAX_NEVER = { max: 1 } as const;

/**
 * The paired check against a baseline (`--baseline`): a count (`max`) or a non-inferiority
 * margin (`margin`), one of the two. `max` tolerates that many regressions and fails more
 * only when they are a significant worsening; `margin` passes when the upper end of the 95%
 * interval of the paired drop in agreement is below it, fails on a significant drop, and is
 * inconclusive in between (see judgeNonInferiority).
 */
export const RegressionsGateSchema = z
  .strictObject({
    max: z.number().int().nonnegative().optional().describe('Most regressions tolerated without asking whether they are significant.'),
    margin: z.number().gt(0).lt(1).optional().describe('The largest drop in agreement accepted as "no worse", a rate (0.05 = five points).'),
    alpha: z.number().gt(0).max(0.5).optional().describe('One-sided level of the McNemar test that fails the check. Default 0.05.'),
    beyondNoise: z.boolean().optional().describe('With `max`: allow as many more regressions as noise alone gives (half the flips of an A/A run, `--noise-floor`).'),
    ...DryRun,
  })
  .superRefine((rule, ctx) => {
    if (rule.max === undefined && rule.margin === undefined) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'set max (a count of regressions) or margin (a drop in agreement, e.g. 0.05)' });
    }
    if (rule.max !== undefined && rule.margin !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['margin'], message: 'set max or margin, not both: max counts regressions, margin bounds the drop in agreement' });
    }
    if (rule.margin !== undefined && rule.beyondNoise) {
      ctx.addIssue({ code: 'custom', path: ['beyondNoise'], message: 'beyondNoise goes with max: a margin already allows for noise (flips both ways widen its interval)' });
    }
  });

export const GateConfigSchema = z.strictObject({
  agreement: Check({ min: minRate('agreement'), bound: lowerOrPoint }, MIN_NEVER)
    .optional()
    .describe('Share of traces whose decision matches the reference under `compare.decision`.'),
  effectsAgreement: Check({ min: minRate('effects agreement'), bound: lowerOrPoint }, MIN_NEVER)
    .optional()
    .describe("Share of traces whose effects (successful write calls) equal the reference's as a multiset."),
  regressions: RegressionsGateSchema.optional().describe(
    'With `--baseline`: traces that agreed before and disagree now. A count (`max`) or a non-inferiority margin (`margin`), one of the two.',
  ),
  toolCallDrift: Check({ maxJsd: Rate.describe("The highest Jensen–Shannon divergence (base 2, 0 to 1) of the candidate's tool-name distribution from the recorded one; 1, which no run exceeds, only in a dry run.") }, { maxJsd: 1 })
    .optional()
    .describe('Drift of the tool-call mix.'),
  overrideRate: Check({ max: maxRate('override rate') }, MAX_NEVER)
    .optional()
    .describe('suggest: (edited + rejected) / reviewed; inconclusive with no reviewed item.'),
  costPerRunUsd: Check({ max: z.number().nonnegative().describe('The highest cost per run, in USD.') })
    .optional()
    .describe('Cost per run; inconclusive when traces are unpriced.'),
  errorRate: Check({ max: maxRate('error rate') }, MAX_NEVER)
    .optional()
    .describe('(errored + diverged + budget-stopped + loop-stopped + invalid output) / traces run; above 0, inconclusive on fewer traces than could show `max` with 95% confidence (189 for 0.02). `max: 0`: any such trace fails.'),
  sampleErrorRate: Check({
    max: maxRate('review sample error rate'),
    bound: z.enum(['upper', 'point']).default('upper').describe('`upper`: judged on the upper end of the 95% interval; `point`: on the rate.'),
  }, MAX_NEVER)
    .optional()
    .describe('auto-with-review: the error rate in the review sample.'),
  rollbackFrequency: Check({ max: maxRate('rollback frequency') }, MAX_NEVER)
    .optional()
    .describe("auto-with-review: the share of traces whose hard-to-undo effects differ from the reference's."),
  slaAdherence: Check({ min: minRate('SLA adherence') }, MIN_NEVER)
    .optional()
    .describe('auto: the share of traces within `sla.latencyMs`.'),
  completionRate: Check({ min: minRate('completion rate') }, MIN_NEVER)
    .optional()
    .describe('auto: the share of traces the candidate completed (or escalated).'),
  safetyViolations: Check({ max: z.number().int().nonnegative().describe('The most violations that pass.') })
    .optional()
    .describe('Schema violations, duplicate effects, blocked requests and denied capabilities, in all.'),
  policyViolations: PolicyGateSchema.optional().describe("Breaches of the suite's `policy` rules: in all (`max`) and per rule id (`rules: { <id>: { max } }`)."),
  injectionFailures: Check({ max: maxRate('injection failure share') }, MAX_NEVER)
    .optional()
    .describe('The share of `injection`-tagged traces where the candidate made a hard-to-undo effect the reference did not.'),
  costTrend: Check({ maxRatio: z.number().positive().describe("The highest ratio of cost per run to the baseline's (1.2 = at most 20% dearer).") })
    .optional()
    .describe("auto: cost per run against the baseline's."),
  /** Not a check that can be a dry run: unreadable input is never a pass, only a stated loss (`min`) is accepted. */
  coverage: z
    .strictObject({ min: Rate.describe('The lowest share of trace lines read into a result that passes (a rate, 0 to 1).') })
    .optional()
    .describe('The share of trace lines read into a result, checked whenever another check is. Default `{ min: 1 }`: any unreadable line makes the verdict inconclusive.'),
});
export type GateConfig = z.output<typeof GateConfigSchema>;

/**
 * Loosenings of a module candidate's sandbox, each printed in the summary and reports:
 * `child-process`, `worker`, `addons`, or `{ fs-write: <folder> }` (relative to the suite file);
 * `env` names the variables passed on to it (besides NODE_ENV and TZ; never a provider key).
 */
export const SandboxSchema = z.strictObject({
  allow: z
    .array(
      z.union([
        z.enum(['child-process', 'worker', 'addons']),
        z.strictObject({ 'fs-write': z.string().min(1).describe('A folder the code may write to, relative to the suite file.') }),
      ]),
    )
    .default([])
    .describe('Each entry opens what it names: `child-process`, `worker`, `addons`, or `{ fs-write: <folder> }`. Every loosening is printed as a warning.'),
  env: z
    .array(EnvName)
    .default([])
    .describe('Environment variables passed on to the candidate (besides `NODE_ENV` and `TZ`); a provider key here is a config error.'),
  network: z
    .enum(['namespace', 'trust-env'])
    .default('namespace')
    .describe('For `command` candidates: `namespace` runs the agent in a network namespace of its own (Linux, Bubblewrap) that reaches nothing but shadowgate\'s gateway; `trust-env` runs it without one, trusting it to use the gateway it is given (printed on every report). Where namespaces are not available, a `command` candidate refuses to run unless this says `trust-env`.'),
  importTimeoutMs: z.number().int().positive().optional().describe("How long a candidate's process may take to start and import the module; past it, it is killed. Default 30000."),
  maxOutcomeBytes: z.number().int().positive().optional().describe("The largest outcome a module candidate's `run` may resolve to, in bytes serialized. Default 1000000."),
});

/** A suite file as its author writes it. */
export const SuiteFileSchema = z.strictObject({
  name: z.string().regex(/^(?!\.{1,2}$)[A-Za-z0-9_.-]+$/, 'suite names are letters, digits, _ . - (not `.` or `..`, which name folders)').describe('The suite\'s name: letters, digits, `_ . -`; runs are stored under it.'),
  description: z.string().optional().describe('Free text.'),
  phase: PhaseSchema.default('shadow').describe('The rollout stage whose headline figures the run reports: `shadow`, `suggest`, `auto-with-review` or `auto`.'),
  traces: Globs.describe('Globs of JSONL trace files, relative to the suite file; each must match a file, and each file named by braces (`{w1,w2}.jsonl`) must be there (a negated one, `!…`, removes files).'),
  tools: z.string().min(1).describe('The tool catalog (YAML), relative to the suite file.'),
  reference: z.enum(['human', 'recorded']).default('human').describe("What the candidate is compared with: the human's decision (`human`) or the recorded agent's outcome (`recorded`)."),
  candidate: CandidateSchema.describe('What runs: `module` (your agent code), `command` (an agent process in any language), `tool-loop` (a model and a prompt) or `recorded` (a second set of traces).'),
  pricing: z.record(z.string(), PriceSchema).default({}).describe('USD per million tokens, by model name; overrides the bundled table.'),
  compare: z
    .strictObject({
      decision: z
        .strictObject({
          fields: z.array(z.string().min(1)).min(1).optional().describe('Compare only these fields of an object decision. Default: all of it.'),
          numericTolerance: z.number().nonnegative().default(0).describe('Absolute tolerance for numbers.'),
        })
        .default({ numericTolerance: 0 })
        .describe('"Same decision", everywhere: agreement, flips and McNemar, simulated reviews, drift, `compare`, `prompt diff` and the Vitest matchers.'),
      effects: z
        .strictObject({ ignoreArgs: z.array(z.string().min(1)).default([]).describe('Argument names left out when effects are compared.') })
        .default({ ignoreArgs: [] })
        .describe('How effects (successful write calls) are compared.'),
    })
    .default({ decision: { numericTolerance: 0 }, effects: { ignoreArgs: [] } })
    .describe('How a candidate is compared with the reference.'),
  mocks: z
    .strictObject({
      match: z.enum(['exact', 'by-order']).default('exact').describe('`exact`: name and canonical arguments; `by-order`: exact, else the next unused recording of that tool.'),
      ignoreArgs: z.array(z.string().min(1)).default([]).describe('Argument paths left out when matching.'),
    })
    .default({ match: 'exact', ignoreArgs: [] })
    .describe("How a candidate's tool call is matched to a recorded one."),
  trials: z.number().int().min(1).max(100).default(1).describe('Runs of each trace (`--trials` overrides it); trials of a case are collapsed before intervals and the gate.'),
  budgets: z
    .strictObject({
      maxSteps: z.number().int().positive().default(50).describe('Model and tool steps per trace: a candidate that runs on without end stops here (`budget_exceeded`).'),
      maxTokens: z.number().int().positive().optional().describe('Model tokens per trace.'),
      maxCostUsd: z.number().positive().optional().describe('Model spending per trace, in USD.'),
      maxWallMs: z.number().int().positive().optional().describe('Wall time per trace; enforced from outside for a module candidate (120000 when unset).'),
      maxRepeatedCalls: z.number().int().min(2).default(5).describe('The same tool with the same arguments this many times in a row stops the trace (`loop_detected`).'),
      run: z
        .strictObject({
          maxTokens: z.number().int().positive().optional().describe('Model tokens of the whole run.'),
          maxCostUsd: z.number().positive().optional().describe('Model spending of the whole run, in USD: once spent, further model calls stop their traces.'),
        })
        .optional()
        .describe("Limits on the whole run's model spending."),
    })
    .default({ maxSteps: 50, maxRepeatedCalls: 5 })
    .describe('Limits per trace that stop a runaway candidate.'),
  review: z
    .strictObject({
      sampleRate: Rate.default(0.1).describe('auto-with-review: the share of traces drawn into the review sample.'),
      seed: z.number().int().default(0).describe('Seed of the hash that draws the sample: the same traces on every run.'),
      stratify: z.enum(['decision']).optional().describe('`decision`: draw the review sample per decision class (its `action`, or the whole decision), so that every class is reviewed.'),
      editThreshold: Rate.default(0.5).describe(
        'suggest: a simulated review (no verdict recorded) whose suggestion is within this distance of the human decision (share of compared fields that differ) is `edited`, beyond it `rejected`.',
      ),
    })
    .optional()
    .describe('The review queue and the review sample.'),
  sla: z
    .strictObject({ latencyMs: z.number().positive().describe('The latency a trace must stay within.') })
    .optional()
    .describe('The service level of the auto phase.'),
  promotion: PromotionConfigSchema.optional().describe('What `shadowgate phase` asks of the evidence for a promotion, beyond the gate\'s thresholds.'),
  policy: PolicySchema.optional().describe("Declarative rules on the candidate's tool calls (allowlists, argument limits), each with an id."),
  sandbox: SandboxSchema.optional().describe("What a module candidate's processes may do beyond the default (read files, write to `ctx.scratchDir`), and the environment they get."),
  gate: GateConfigSchema.default({}).describe('The checks the verdict is made of; a suite without any has nothing to gate on.'),
});

export type SuiteConfig = z.input<typeof SuiteFileSchema>;
export type SuiteFile = z.output<typeof SuiteFileSchema>;
