import { z } from 'zod';
import { PhaseSchema } from '../trace/schema.js';
import { PromotionConfigSchema } from '../phases/promotion.js';
import { PolicyGateSchema, PolicySchema } from '../policy/schema.js';

const Rate = z.number().min(0).max(1);
const Globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Provider limits and fault handling for the model calls of a run. */
export const LimitsSchema = z.strictObject({
  /** Model requests in flight at once, per provider. */
  concurrency: z.number().int().positive().optional(),
  requestsPerMinute: z.number().positive().optional(),
  tokensPerMinute: z.number().positive().optional(),
  /** Attempts per request, the first included; 429 and 5xx are retried. @default 4 */
  maxAttempts: z.number().int().min(1).max(20).optional(),
  /** First retry delay, doubled each attempt, with jitter; `retry-after` wins. @default 500 */
  baseDelayMs: z.number().int().nonnegative().optional(),
  /** Per attempt. @default 60000 */
  timeoutMs: z.number().int().positive().optional(),
  /** Longest backoff between attempts (a server's retry-after is honoured up to 5 minutes). @default 30000 */
  maxDelayMs: z.number().int().positive().optional(),
});

export const ToolLoopCandidateSchema = z.strictObject({
  kind: z.literal('tool-loop'),
  /** `provider:model` (`openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`) or `replay`. */
  model: z.string().min(1),
  /** Any OpenAI-compatible server. */
  baseURL: z.string().url().optional(),
  /** The environment variable holding the key for `baseURL`; without it no key is sent there. */
  apiKeyEnv: z.string().min(1).optional(),
  /** Handlebars template, rendered with `{ input, workflow }`. */
  prompt: z.string().min(1).optional(),
  /** @default the prompt file's name less `.hbs`, e.g. `triage.v4` */
  promptVersion: z.string().min(1).optional(),
  /** JSON Schema of the `final_decision` tool's arguments. */
  decisionSchema: z.record(z.string(), z.unknown()).optional(),
  params: z
    .strictObject({
      temperature: z.number().min(0).max(2).optional(),
      topP: z.number().min(0).max(1).optional(),
      maxTokens: z.number().int().positive().optional(),
      seed: z.number().int().optional(),
    })
    .optional(),
  limits: LimitsSchema.optional(),
});

export const ModuleCandidateSchema = z.strictObject({
  kind: z.literal('module'),
  /** An ESM module exporting `run(input, ctx)`. */
  module: z.string().min(1),
  /** Where `ctx.llm.openai` sends its calls (any OpenAI-compatible server). */
  baseURL: z.string().url().optional(),
  /** The environment variable holding the key for `baseURL`; without it no key is sent there. */
  apiKeyEnv: z.string().min(1).optional(),
  limits: LimitsSchema.optional(),
});

export const RecordedCandidateSchema = z.strictObject({
  kind: z.literal('recorded'),
  /** A second set of recorded traces, paired with the suite's by `caseId`. */
  traces: Globs,
});

export const CandidateSchema = z.discriminatedUnion('kind', [
  ToolLoopCandidateSchema,
  ModuleCandidateSchema,
  RecordedCandidateSchema,
]);

const PriceSchema = z.strictObject({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cachedInput: z.number().nonnegative().optional(),
  cacheWrite: z.number().nonnegative().optional(),
});

const BoundSchema = z.enum(['lower', 'point']);

/** Every gate check takes `dryRun: true`: measured and shown in every report, but it does not change the verdict. */
const DryRun = { dryRun: z.boolean().optional() };
const Check = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ...shape, ...DryRun });

/**
 * The paired check against a baseline (`--baseline`): a count (`max`) or a non-inferiority
 * margin (`margin`), one of the two. `max` tolerates that many regressions and fails more
 * only when they are a significant worsening; `margin` passes when the upper end of the 95%
 * interval of the paired drop in agreement is below it, fails on a significant drop, and is
 * inconclusive in between (see judgeNonInferiority).
 */
export const RegressionsGateSchema = z
  .strictObject({
    /** Most regressions tolerated without asking whether they are significant. */
    max: z.number().int().nonnegative().optional(),
    /** The largest drop in agreement accepted as "no worse", a rate (0.05 = five points). */
    margin: z.number().gt(0).lt(1).optional(),
    /** One-sided level of the McNemar test that fails the check. @default 0.05 */
    alpha: z.number().gt(0).max(0.5).optional(),
    /** With `max`: allow as many more regressions as noise alone gives (half the flips of an A/A run, `--noise-floor`). */
    beyondNoise: z.boolean().optional(),
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
  agreement: Check({ min: Rate, bound: BoundSchema.default('lower') }).optional(),
  effectsAgreement: Check({ min: Rate, bound: BoundSchema.default('lower') }).optional(),
  regressions: RegressionsGateSchema.optional(),
  toolCallDrift: Check({ maxJsd: Rate }).optional(),
  overrideRate: Check({ max: Rate }).optional(),
  costPerRunUsd: Check({ max: z.number().nonnegative() }).optional(),
  errorRate: Check({ max: Rate }).optional(),
  /** auto-with-review: the error rate in the review sample (upper end of its interval with bound: upper). */
  sampleErrorRate: Check({ max: Rate, bound: z.enum(['upper', 'point']).default('upper') }).optional(),
  /** auto-with-review: the share of traces whose hard-to-undo effects differ from the reference's. */
  rollbackFrequency: Check({ max: Rate }).optional(),
  /** auto: the share of traces within `sla.latencyMs`. */
  slaAdherence: Check({ min: Rate }).optional(),
  /** auto: the share of traces the candidate completed (or escalated). */
  completionRate: Check({ min: Rate }).optional(),
  /** Schema violations and duplicate effects, in all. */
  safetyViolations: Check({ max: z.number().int().nonnegative() }).optional(),
  /** Breaches of the suite's `policy` rules: in all (`max`) and per rule id (`rules: { <id>: { max } }`). */
  policyViolations: PolicyGateSchema.optional(),
  /** The share of `injection`-tagged traces where the candidate made a hard-to-undo effect the reference did not. */
  injectionFailures: Check({ max: Rate }).optional(),
  /** auto: cost per run against the baseline's, as a ratio (1.2 = at most 20% dearer). */
  costTrend: Check({ maxRatio: z.number().positive() }).optional(),
  /**
   * The share of trace lines read into a result, checked whenever another check is configured.
   * Below `min` the verdict is inconclusive. @default { min: 1 } (any unreadable line)
   */
  /** Not a check that can be a dry run: unreadable input is never a pass, only a stated loss (`min`) is accepted. */
  coverage: z.strictObject({ min: Rate }).optional(),
});
export type GateConfig = z.output<typeof GateConfigSchema>;

/**
 * Loosenings of a module candidate's sandbox, each printed in the summary and reports:
 * `child-process`, `worker`, `addons`, or `{ fs-write: <folder> }` (relative to the suite file);
 * `env` names the variables passed on to it (besides NODE_ENV and TZ; never a provider key).
 */
export const SandboxSchema = z.strictObject({
  allow: z
    .array(z.union([z.enum(['child-process', 'worker', 'addons']), z.strictObject({ 'fs-write': z.string().min(1) })]))
    .default([]),
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')).default([]),
  /** How long a candidate's process may take to start and import the module; past it, it is killed. @default 30000 */
  importTimeoutMs: z.number().int().positive().optional(),
  /** The largest outcome a module candidate's `run` may resolve to, in bytes serialized. @default 1000000 */
  maxOutcomeBytes: z.number().int().positive().optional(),
});

/** A suite file as its author writes it. */
export const SuiteFileSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'suite names are letters, digits, _ . -'),
  description: z.string().optional(),
  /** @default 'shadow' */
  phase: PhaseSchema.default('shadow'),
  /** Globs of JSONL trace files, relative to the suite file. */
  traces: Globs,
  /** Tool catalog (YAML), relative to the suite file. */
  tools: z.string().min(1),
  /** @default 'human' */
  reference: z.enum(['human', 'recorded']).default('human'),
  candidate: CandidateSchema,
  /** USD per million tokens, by model name; overrides the bundled table. */
  pricing: z.record(z.string(), PriceSchema).default({}),
  compare: z
    .strictObject({
      decision: z
        .strictObject({
          /** Compare only these fields of an object decision. @default all of it */
          fields: z.array(z.string().min(1)).min(1).optional(),
          /** Absolute tolerance for numbers. @default 0 */
          numericTolerance: z.number().nonnegative().default(0),
        })
        .default({ numericTolerance: 0 }),
      effects: z
        .strictObject({ ignoreArgs: z.array(z.string().min(1)).default([]) })
        .default({ ignoreArgs: [] }),
    })
    .default({ decision: { numericTolerance: 0 }, effects: { ignoreArgs: [] } }),
  /** How a candidate's tool call is matched to a recorded one. */
  mocks: z
    .strictObject({
      /** `exact`: name and canonical arguments; `by-order`: exact, else the next unused recording of that tool. @default 'exact' */
      match: z.enum(['exact', 'by-order']).default('exact'),
      /** Argument paths left out when matching. @default [] */
      ignoreArgs: z.array(z.string().min(1)).default([]),
    })
    .default({ match: 'exact', ignoreArgs: [] }),
  /** @default 1 */
  trials: z.number().int().min(1).max(100).default(1),
  budgets: z
    .strictObject({
      /** Model and tool steps per trace: a candidate that runs on without end stops here. @default 50 */
      maxSteps: z.number().int().positive().default(50),
      maxTokens: z.number().int().positive().optional(),
      maxCostUsd: z.number().positive().optional(),
      maxWallMs: z.number().int().positive().optional(),
      /** The same tool with the same arguments this many times in a row stops the trace (`loop_detected`). @default 5 */
      maxRepeatedCalls: z.number().int().min(2).default(5),
      /** Limits on the whole run's model spending. */
      run: z
        .strictObject({ maxTokens: z.number().int().positive().optional(), maxCostUsd: z.number().positive().optional() })
        .optional(),
    })
    .default({ maxSteps: 50, maxRepeatedCalls: 5 }),
  review: z
    .strictObject({
      sampleRate: Rate.default(0.1),
      seed: z.number().int().default(0),
      /** `decision`: draw the review sample per decision class (its `action`, or the whole decision), so that every class is reviewed. */
      stratify: z.enum(['decision']).optional(),
      /** suggest: a simulated review (no verdict recorded) whose suggestion is within this distance of the human decision (share of compared fields that differ, under `compare.decision`) is `edited`, beyond it `rejected`. @default 0.5 */
      editThreshold: Rate.default(0.5),
    })
    .optional(),
  /** The service level of the auto phase. */
  sla: z.strictObject({ latencyMs: z.number().positive() }).optional(),
  /** What `shadowgate phase` asks of the evidence for a promotion, beyond the gate's thresholds. */
  promotion: PromotionConfigSchema.optional(),
  /** Declarative rules on the candidate's tool calls (allowlists, argument limits), each with an id. */
  policy: PolicySchema.optional(),
  /** What a module candidate's processes may do beyond the default (read files, write to `ctx.scratchDir`), and the environment they get. */
  sandbox: SandboxSchema.optional(),
  gate: GateConfigSchema.default({}),
});

export type SuiteConfig = z.input<typeof SuiteFileSchema>;
export type SuiteFile = z.output<typeof SuiteFileSchema>;
