#!/usr/bin/env node
// Gate calibration: how often the gate fails a CI job on a candidate that has not changed
// (A/A) and on one whose agreement truly dropped 5 or 10 points (A/B), on simulated suites
// (made here, not recorded), each judged by the real gate code: the paired figures come from
// the real pairing (pairWithBaseline: pairResults and mcnemarMidP, as `run --baseline`), and the verdict from the real evaluateGate.
//
//   npm run bench:gate-calibration
//   npm run bench:gate-calibration -- --json reports/gate-calibration.json
//   npm run bench:gate-calibration -- --suites 5000 --seed 7 --margin 0.08 --alpha 0.05
//
// One simulated suite: n = 200 traces drawn from a population whose agreement is 0.90 on
// average. 80% of the traces are nearly deterministic (agree with probability 0.99, or,
// for the few the agent always gets wrong, 0.01); a hard fifth agrees with a probability
// drawn uniformly from [0.5, 0.8], so it flips often between runs. The baseline run and
// the candidate run draw each trace's outcome independently. A/A: the candidate is the
// baseline. A/B: the candidate breaks each trace with probability r (then agrees with
// probability 0.01), r set so that its expected agreement is 5 or 10 points lower.
//
// Two gates judge the same suites:
// - recommended: `regressions: { margin, alpha }` (non-inferiority against the baseline);
// - fixedThreshold: `agreement: { min: T, bound: point }`, the pass-rate threshold of the kind
//   promptfoo offers, with T the lowest threshold that fails the 10-point drops at least as
//   often as the recommended gate does.
// - countGate, for reference: `regressions: { max: 0 }`, the count-based paired gate, which a
//   nondeterministic candidate cannot pass.
// A CI job fails on `fail` and on `inconclusive` (the default of `shadowgate gate`).
// Beside the three scenarios asked for, aaHarder is an A/A pair on a harder suite (agreement
// 0.85 instead of 0.90), judged by the same gates: the margin is relative to the baseline,
// the pass-rate threshold is not.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const args = parseArgs(process.argv.slice(2));
const N = 200;
const SUITES = args.suites ?? 5000;
const SEED = args.seed ?? 20261206;
const MARGIN = args.margin ?? 0.1;
const ALPHA = args.alpha ?? 0.05;

const { evaluateGate } = await import('../dist/index.js');
const { pairWithBaseline } = await import('../dist/run/run-suite.js');
// The seeded generator the bootstraps use: the same seed gives the same suites on every machine.
const { mulberry32 } = await import('../dist/metrics/bootstrap.js');
const { createMetricsAccumulator, rateMetric } = await import('../dist/metrics/summary.js');

const random = mulberry32(SEED);
const EMPTY = createMetricsAccumulator().finish();
const recommendedGate = { regressions: { margin: MARGIN, alpha: ALPHA } };

/** One suite's traces: each trace's chance of agreeing in an unchanged run, averaging `mean`. */
function population(mean = 0.9) {
  // The hard fifth averages 0.65; the easy traces make up the rest: 0.2·0.65 + 0.8·(0.99·f + 0.01·(1 − f)) = mean.
  const f = ((mean - 0.13) / 0.8 - 0.01) / 0.98;
  return Array.from({ length: N }, () => {
    if (random() < 0.2) return 0.5 + 0.3 * random();
    return random() < f ? 0.99 : 0.01;
  });
}

/** A run of the candidate over the suite: one outcome per trace, as the pairing rows of its results. */
function run(chances, label) {
  return chances.map((p, i) => ({ traceId: `t${i}`, caseId: `t${i}`, trial: 0, agree: random() < p, run: label }));
}

/** The candidate's chances after a drop: each trace broken with probability r. */
function dropped(chances, drop) {
  const mean = 0.9;
  const r = drop / (mean - 0.01);
  return chances.map((p) => (random() < r ? 0.01 : p));
}

/** The candidate run's metrics as the gate reads them, paired with the baseline run as `run --baseline` pairs them. */
function metricsOf(baseline, candidate) {
  const agreed = candidate.filter((r) => r.agree).length;
  return {
    ...EMPTY,
    agreement: rateMetric(agreed, candidate.length),
    paired: pairWithBaseline({ runId: 'baseline', rows: baseline }, candidate),
  };
}

// aaHarder: an A/A pair on a harder suite (baseline agreement 0.85): what a threshold tuned on the 0.90 suites does when the traces change.
const scenarios = { aa: 0, drop5: 0.05, drop10: 0.1, aaHarder: 0 };
const suites = { aa: [], drop5: [], drop10: [], aaHarder: [] };
let discordant = 0;
for (let s = 0; s < SUITES; s++) {
  for (const [name, drop] of Object.entries(scenarios)) {
    const chances = population(name === 'aaHarder' ? 0.85 : 0.9);
    const baseline = run(chances, 'baseline');
    const candidate = run(drop === 0 ? chances : dropped(chances, drop), 'candidate');
    const metrics = metricsOf(baseline, candidate);
    if (name === 'aa') discordant += (metrics.paired.regressions.length + metrics.paired.fixes.length) / N;
    suites[name].push({ metrics, verdict: evaluateGate(recommendedGate, metrics).verdict });
  }
}

const share = (verdicts) => {
  const count = (v) => verdicts.filter((x) => x === v).length / verdicts.length;
  return { pass: count('pass'), fail: count('fail'), inconclusive: count('inconclusive') };
};
const ciFails = (s) => 1 - s.pass;
const recommended = Object.fromEntries(Object.entries(suites).map(([k, list]) => [k, share(list.map((x) => x.verdict))]));

// The fixed threshold: the lowest pass rate k/n that fails the 10-point drops at least as often.
const fixedVerdicts = (min) => Object.fromEntries(Object.entries(suites).map(([k, list]) => [k, list.map((x) => evaluateGate({ agreement: { min, bound: 'point' } }, x.metrics).verdict)]));
let threshold = null;
for (let k = 0; k <= N; k++) {
  const min = k / N;
  const drop10 = share(fixedVerdicts(min).drop10);
  if (ciFails(drop10) >= ciFails(recommended.drop10)) {
    threshold = min;
    break;
  }
}
const fixedThreshold = Object.fromEntries(Object.entries(fixedVerdicts(threshold)).map(([k, v]) => [k, share(v)]));
const countGateConfig = { regressions: { max: 0, alpha: ALPHA } };
const countGate = Object.fromEntries(Object.entries(suites).map(([k, list]) => [k, share(list.map((x) => evaluateGate(countGateConfig, x.metrics).verdict))]));

const result = {
  n: N,
  suites: SUITES,
  seed: SEED,
  recommended,
  fixedThreshold,
  countGate,
  gates: { recommended: recommendedGate, fixedThreshold: { agreement: { min: threshold, bound: 'point' } }, countGate: countGateConfig },
  meanAADiscordance: discordant / SUITES,
  targets: { aaCiFailsAtMost: 0.05, drop10CiFailsAtLeast: 0.8 },
  met: ciFails(recommended.aa) <= 0.05 && ciFails(recommended.drop10) >= 0.8,
};

const pct = (x) => `${(x * 100).toFixed(1)}%`.padStart(6);
console.log(`node ${process.version}; ${SUITES} suites of ${N} traces per scenario, seed ${SEED}; mean A/A discordance ${pct(result.meanAADiscordance).trim()}`);
console.log(`${'gate'.padEnd(58)} scenario   pass    fail  inconcl.  CI job fails`);
for (const [label, name, shares] of [
  [`regressions: { margin: ${MARGIN}, alpha: ${ALPHA} }`, 'recommended', recommended],
  [`agreement: { min: ${threshold}, bound: point }`, 'fixedThreshold', fixedThreshold],
  [`regressions: { max: 0, alpha: ${ALPHA} }`, 'countGate', countGate],
]) {
  for (const k of Object.keys(scenarios)) {
    const s = shares[k];
    console.log(`${(k === 'aa' ? `${name}: ${label}` : '').padEnd(58)} ${k.padEnd(8)} ${pct(s.pass)}  ${pct(s.fail)}  ${pct(s.inconclusive)}  ${pct(ciFails(s))}`);
  }
}
console.log(`targets for the recommended gate: A/A CI failures ≤ 5%, 10-point drops failing CI ≥ 80%: ${result.met ? 'met' : 'NOT met'}`);
if (args.json) {
  writeFileSync(resolve(args.json), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${args.json}`);
}
if (!result.met) process.exitCode = 1;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (!['json', 'suites', 'seed', 'margin', 'alpha'].includes(key)) throw new Error(`unknown option --${key} (known: --json, --suites, --seed, --margin, --alpha)`);
    out[key] = key === 'json' ? value : Number(value);
    if (key !== 'json' && !Number.isFinite(out[key])) throw new Error(`--${key} takes a number, got ${value}`);
  }
  if (out.suites !== undefined && (!Number.isInteger(out.suites) || out.suites < 1)) throw new Error('--suites takes a positive integer');
  return out;
}
