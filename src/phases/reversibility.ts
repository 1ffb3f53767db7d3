import { EFFECT_CLASSES, type EffectClass } from '../trace/catalog.js';
import { PhaseSchema, type Phase } from '../trace/schema.js';

/** The rollout phases, least autonomy first. */
export const PHASES: readonly Phase[] = PhaseSchema.options;

/** The lesser of two phases (the one with less autonomy). */
export const minPhase = (a: Phase, b: Phase): Phase => (PHASES.indexOf(a) <= PHASES.indexOf(b) ? a : b);

/**
 * The reversibility matrix of DESIGN.md: the highest phase a tool of each effect class allows.
 * `write-reversible` allows auto only after a shadow period (see `ReversibilityMatrix.condition`).
 */
export const PHASE_CAP: Readonly<Record<EffectClass, Phase>> = {
  read: 'auto',
  'write-reversible': 'auto',
  'write-external': 'auto-with-review',
  'write-irreversible': 'suggest',
};

/** The class whose cap holds only after a shadow period; until then it allows auto-with-review. */
const NEEDS_SHADOW_PERIOD: EffectClass = 'write-reversible';

/** How much shadow evidence the store must hold before a write-reversible workflow runs alone. */
export interface ShadowPeriod {
  /** Finished shadow-phase runs of the candidate. */
  runs: number;
  /** Days from the first of those runs to the last. */
  days: number;
}

export const DEFAULT_SHADOW_PERIOD: ShadowPeriod = { runs: 3, days: 7 };

export interface ToolCap {
  name: string;
  /** The catalog's class; a tool the catalog lacks counts as write-irreversible, as the replay treats it. */
  effect: EffectClass;
  inCatalog: boolean;
  /** The highest phase this tool allows. */
  cap: Phase;
  /** `shadow-period`: the cap holds only after a shadow period. */
  condition: 'shadow-period' | null;
  /** Calls of the tool in the run (reference and candidate together); null when usage is not known. */
  calls: number | null;
  /** Whether the tool bears on the workflow's cap: it was called, or usage is not known. */
  counted: boolean;
}

export interface ReversibilityMatrix {
  /** Catalog tools in catalog order, then called tools the catalog lacks. */
  tools: ToolCap[];
  /** `used`: the tools called in the run set the cap; `catalog`: usage is not known, so every catalog tool does. */
  basis: 'used' | 'catalog';
  /** The workflow's cap: the least over the counted tools (auto when none is counted). */
  cap: Phase;
  /** Set when the cap is auto only after a shadow period (a counted write-reversible tool, nothing riskier). */
  condition: { shadowPeriod: ShadowPeriod } | null;
  /** The riskiest class among the counted tools; null when none is counted. */
  riskiest: EffectClass | null;
  /** The counted tools of that class: they impose the cap. */
  imposedBy: string[];
}

/**
 * Each tool's effect class and the phase it allows, and the workflow's cap: the least of
 * the caps of the tools it uses. Given `calls` (calls per tool, e.g. from a run's tool-call
 * drift), only the tools called count; without it every catalog tool does, as the agent may
 * call any of them.
 * When to use: to bound the autonomy a workflow may earn. When not to use: as evidence; a
 * workflow under its cap still needs the evidence of `assessPromotion`.
 * @example reversibilityMatrix(catalog, { calls: { get_order: 40, issue_refund: 12 } }).cap // 'suggest'
 */
export function reversibilityMatrix(
  catalog: { tools: readonly { name: string; effect: EffectClass }[] },
  options: { calls?: Readonly<Record<string, number>>; shadowPeriod?: ShadowPeriod } = {},
): ReversibilityMatrix {
  const { calls } = options;
  const row = (name: string, effect: EffectClass, inCatalog: boolean): ToolCap => {
    const n = calls ? (calls[name] ?? 0) : null;
    return { name, effect, inCatalog, cap: PHASE_CAP[effect], condition: effect === NEEDS_SHADOW_PERIOD ? 'shadow-period' : null, calls: n, counted: n === null || n > 0 };
  };
  const known = new Set(catalog.tools.map((t) => t.name));
  const tools = [
    ...catalog.tools.map((t) => row(t.name, t.effect, true)),
    ...Object.keys(calls ?? {})
      .filter((name) => !known.has(name))
      .sort()
      .map((name) => row(name, 'write-irreversible', false)),
  ];
  const counted = tools.filter((t) => t.counted);
  const riskiest = counted.reduce<EffectClass | null>((worst, t) => (worst === null || EFFECT_CLASSES.indexOf(t.effect) > EFFECT_CLASSES.indexOf(worst) ? t.effect : worst), null);
  return {
    tools,
    basis: calls ? 'used' : 'catalog',
    cap: riskiest ? PHASE_CAP[riskiest] : 'auto',
    condition: riskiest === NEEDS_SHADOW_PERIOD ? { shadowPeriod: options.shadowPeriod ?? DEFAULT_SHADOW_PERIOD } : null,
    riskiest,
    imposedBy: counted.filter((t) => t.effect === riskiest).map((t) => t.name),
  };
}

/** Calls per tool, reference and candidate together, from a run's `toolCallDrift.perTool`. */
export function callsPerTool(perTool: Readonly<Record<string, { reference: number; candidate: number }>>): Record<string, number> {
  return Object.fromEntries(Object.entries(perTool).map(([name, t]) => [name, t.reference + t.candidate]));
}

/** What a run keeps of its suite for the matrix (in its settings, so that merged shards have it too). */
export interface RunReversibility {
  /** Each catalog tool's class, in catalog order. */
  tools: { name: string; effect: EffectClass }[];
  shadowPeriod: ShadowPeriod;
}

/** The matrix of a run: its catalog's classes against the tools called in it; null for a run that kept no catalog. */
export function runReversibility(
  kept: RunReversibility | undefined,
  perTool: Readonly<Record<string, { reference: number; candidate: number }>>,
): ReversibilityMatrix | null {
  return kept ? reversibilityMatrix(kept, { calls: callsPerTool(perTool), shadowPeriod: kept.shadowPeriod }) : null;
}
