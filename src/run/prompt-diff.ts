import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { ShadowgateError, UsageError, NotFoundError } from '../errors.js';
import { diffBehaviour, type BehaviourDiff } from '../metrics/version-diff.js';
import { findPromptFamilies, findPromptVersion, promptDirs, suitesByPrompt, type PromptFamily, type PromptVersion } from '../prompts/versions.js';
import { loadPromptTemplate } from '../replay/tool-loop.js';
import type { TraceResult } from '../replay/types.js';
import { loadSuite, withCandidate, type ResolvedSuite } from '../suite/load.js';
import { readTraceFile } from '../trace/reader.js';
import type { Trace } from '../trace/schema.js';
import { loadBaseline } from './baseline.js';
import { runSuite, type RunOptions, type RunOutcome } from './run-suite.js';

/** A version as reports show it: its `file` relative to the working folder (reports may be published). */
export interface PromptSide extends PromptVersion {
  /** The template's text. */
  text: string;
  /** The prompt rendered for the sample trace, as the tool loop renders it; null without a sample or when it fails to render. */
  rendered: string | null;
  /** Why it did not render for the sample trace. */
  renderError: string | null;
}

export interface PromptDiff {
  name: string;
  /** The templates' folder, relative to the working folder. */
  dir: string;
  a: PromptSide;
  b: PromptSide;
  /** The trace the prompts were rendered for, and the suite whose traces it is from; null when no suite was found. */
  sample: { traceId: string; suite: string } | null;
  /** With --suite: both versions run on the suite, and what changed. */
  behaviour: {
    suite: string;
    runs: { a: RunOutcome; b: RunOutcome };
    diff: BehaviourDiff;
  } | null;
}

export interface PromptDiffOptions extends Omit<RunOptions, 'baseline' | 'resume' | 'noiseFloor' | 'shard'> {
  cwd: string;
  /** The suite to run both versions on (a tool-loop candidate). */
  suiteFile?: string;
  /** Where the prompts are. */
  dir?: string;
  /** The trace to render the prompts for; the first of the suite's traces by default. */
  traceId?: string;
  /** Told before each version's run starts. */
  onRunStart?: (version: string) => void;
}

/**
 * `prompt diff`: the two versions' texts, both rendered for a sample trace, and, with
 * a suite, both run on it (the suite's candidate with its prompt set to each version,
 * through the response cache) and their behaviour compared trace by trace.
 */
export async function diffPromptVersions(name: string, a: string, b: string, options: PromptDiffOptions): Promise<PromptDiff> {
  const { cwd } = options;
  const suite = options.suiteFile ? await loadSuite(options.suiteFile) : undefined;
  if (suite && suite.candidate.kind !== 'tool-loop') {
    throw new UsageError(`--suite ${relative(cwd, suite.file)}: its candidate is a ${suite.candidate.kind}, not a tool loop with a prompt`, 'name a suite whose candidate is kind: tool-loop');
  }
  const suitePrompt = suite?.candidate.kind === 'tool-loop' ? suite.candidate.prompt : undefined;
  const families = findPromptFamilies(await promptDirs(cwd, { dir: options.dir, suitePrompt }));
  const va = findPromptVersion(families, name, a, cwd);
  const vb = findPromptVersion(families, name, b, cwd);
  const family = families.find((f) => f.versions.includes(va))!;

  const sampleSuite = suite ?? (await suiteUsing(family, cwd));
  if (options.traceId && !sampleSuite) throw new UsageError(`--trace ${options.traceId}: no suite runs prompt ${name}, so there are no traces to find it in`, 'name the suite with --suite');
  const trace = sampleSuite ? await sampleTrace(sampleSuite, options.traceId, cwd) : undefined;
  const side = async (v: PromptVersion): Promise<PromptSide> => {
    const text = readFileSync(v.file, 'utf8');
    const shown = { version: v.version, file: relative(cwd, v.file), text };
    if (!trace) return { ...shown, rendered: null, renderError: null };
    try {
      return { ...shown, rendered: (await loadPromptTemplate(v.file))(trace), renderError: null };
    } catch (error) {
      if (!(error instanceof ShadowgateError)) throw error;
      return { ...shown, rendered: null, renderError: error.message.split(v.file).join(shown.file) };
    }
  };

  return {
    name,
    dir: relative(cwd, family.dir) || '.',
    a: await side(va),
    b: await side(vb),
    sample: trace && sampleSuite ? { traceId: trace.id, suite: relative(cwd, sampleSuite.file) } : null,
    behaviour: suite ? await runBoth(suite, name, va, vb, options) : null,
  };
}

/** Runs the suite with version a, then with version b paired with a's run as its baseline. */
async function runBoth(suite: ResolvedSuite, name: string, va: PromptVersion, vb: PromptVersion, options: PromptDiffOptions) {
  const { suiteFile: _s, dir: _d, traceId: _t, onRunStart, ...runOptions } = options;
  const model = suite.candidate.kind === 'tool-loop' ? suite.candidate.model : '';
  // A spec that is a path ending in .hbs sets only the prompt: the suite's model, server and limits stay.
  const withVersion = (v: PromptVersion) => withCandidate(suite, `${model}@${name}.${v.version}`, v.file, options.cwd);
  onRunStart?.(va.version);
  const runA = await runSuite(await withVersion(va), runOptions);
  onRunStart?.(vb.version);
  const runB = await runSuite(await withVersion(vb), { ...runOptions, baseline: loadBaseline(runA.meta.runId, options.store, options.cwd) });
  const results = (run: RunOutcome): TraceResult[] => [...options.store.results(run.meta.runId)];
  return {
    suite: suite.name,
    runs: { a: runA, b: runB },
    diff: diffBehaviour(results(runA), results(runB), { a: runA.metrics, b: runB.metrics }, { decision: suite.compare.decision, ignoreArgs: runB.settings.driftIgnoreArgs }),
  };
}

/** The first suite under `cwd/suites` that runs a version of this prompt, for a sample trace to render with. */
async function suiteUsing(family: PromptFamily, cwd: string): Promise<ResolvedSuite | undefined> {
  const uses = await suitesByPrompt(cwd);
  for (const v of family.versions) {
    for (const file of uses.get(v.file) ?? []) {
      try {
        return await loadSuite(resolve(cwd, file));
      } catch (error) {
        if (!(error instanceof ShadowgateError)) throw error; // a suite that does not load is no sample
      }
    }
  }
  return undefined;
}

/** The trace with this id in the suite's trace files, or the first good one. */
async function sampleTrace(suite: ResolvedSuite, traceId: string | undefined, cwd: string): Promise<Trace> {
  for (const file of suite.traceFiles) {
    for await (const line of readTraceFile(file)) {
      if (line.ok && (traceId === undefined || line.trace.id === traceId)) return line.trace;
    }
  }
  throw new NotFoundError(
    traceId ? `no trace ${traceId} in the traces of ${relative(cwd, suite.file)}` : `${relative(cwd, suite.file)} has no readable trace to render the prompts for`,
    traceId ? 'pass the id of one of the suite\'s traces with --trace' : 'check its traces with `shadowgate validate`',
  );
}
