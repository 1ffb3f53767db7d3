import { z } from 'zod';
import { ShadowgateError } from '../errors.js';
import { SuiteFileSchema } from '../suite/schema.js';
import { parseAgainst, parseDuration } from './windows.js';

const Count = z.number().int().nonnegative();
/** A threshold no window could cross (a rate's min of 0, a max of 1) checks nothing: refused. */
const NEVER = 'no window crosses it, and a threshold that cannot be crossed checks nothing (leave it out)';
const FailableMin = z.number().gt(0, `must be above 0: ${NEVER}`).max(1);
const FailableMax = z.number().min(0).lt(1, `must be below 1: ${NEVER}`);

/** A CLI-style value checked at load time, so that a bad one is reported with its line. */
const checked = (parse: (text: string) => unknown) =>
  z.string().superRefine((text, ctx) => {
    try {
      parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof ShadowgateError ? `${error.message}${error.hint ? ` (${error.hint})` : ''}` : String(error) });
    }
  });

/** Limits on the latest window, absolute (`min`, `max`) and against its reference window (`maxDrop`, `maxRise`, `maxRatio`). */
export const DriftThresholdsSchema = z.strictObject({
  /** Jensen–Shannon divergence (base 2) of the tool-call mix. */
  maxJsd: FailableMax.optional(),
  /** PSI of the tool-call mix (< 0.1 stable, 0.1–0.25 moderate, > 0.25 major). */
  maxPsi: z.number().nonnegative().optional(),
  /** Any tool called more than `max` times as often per run, or less than 1/`max` as often; tools with fewer than `minCalls` calls in both windows are left out. */
  toolRatio: z.strictObject({ max: z.number().min(1), minCalls: Count.default(20) }).optional(),
  /** Tools called in the latest window and never in its reference, and the other way round. */
  newTools: z.strictObject({ max: Count }).optional(),
  missingTools: z.strictObject({ max: Count }).optional(),
  agreement: z.strictObject({ min: FailableMin.optional(), maxDrop: FailableMax.optional() }).optional(),
  overrideRate: z.strictObject({ max: FailableMax.optional(), maxRise: FailableMax.optional() }).optional(),
  escalationRate: z.strictObject({ max: FailableMax.optional(), maxRise: FailableMax.optional() }).optional(),
  errorRate: z.strictObject({ max: FailableMax.optional(), maxRise: FailableMax.optional() }).optional(),
  costPerCompletedUsd: z.strictObject({ max: z.number().nonnegative().optional(), maxRatio: z.number().positive().optional() }).optional(),
  p95LatencyMs: z.strictObject({ max: z.number().nonnegative().optional(), maxRatio: z.number().positive().optional() }).optional(),
});
export type DriftThresholds = z.output<typeof DriftThresholdsSchema>;

/** A drift config file (YAML), as its author writes it. Every key is optional; CLI flags win over it. */
export const DriftConfigSchema = z.strictObject({
  /** Only traces of this workflow (stored runs: of this suite). */
  workflow: z.string().min(1).optional(),
  /** Window length: 12h, 7d, 2w. @default '7d' */
  window: checked(parseDuration).optional(),
  /** How many consecutive windows, the last ending at the latest time seen. @default 4 */
  windows: z.number().int().min(1).max(1000).optional(),
  /** `previous`, or `<from>..<to>`: a fixed reference window. @default 'previous' */
  against: checked(parseAgainst).optional(),
  /** Thresholds are judged only when the latest window and its reference each hold this many runs; otherwise the verdict is inconclusive. @default 1 */
  minTraces: z.number().int().min(1).default(1),
  /** How a trace's decision is compared with the human's (as in a suite). */
  compare: SuiteFileSchema.shape.compare.unwrap().shape.decision,
  /** USD per million tokens, by model name; overrides the bundled table (as in a suite). */
  pricing: SuiteFileSchema.shape.pricing,
  thresholds: DriftThresholdsSchema.default({}),
});
export type DriftConfig = z.output<typeof DriftConfigSchema>;

/** The config with no file: no thresholds, decisions compared whole, the bundled prices. */
export const DEFAULT_DRIFT_CONFIG: DriftConfig = DriftConfigSchema.parse({});
