import { createMockToolbox } from '../replay/mock-tools.js';
import { loadModuleCandidate, loadPromptTemplate, moduleRunner, toolLoopRunner, type CandidateOutcome } from '../replay/candidates.js';
import { recordedOutcome } from '../replay/replay-trace.js';
import { ReplaySession } from '../replay/session.js';
import { createProvider, parseModelSpec } from '../providers/registry.js';
import type { ModelProvider } from '../providers/types.js';
import type { ResolvedSuite } from '../suite/load.js';
import { readTraceFile } from '../trace/reader.js';
import { caseIdOf, type Trace } from '../trace/schema.js';
import type { Issue } from '../errors.js';

/** A candidate ready to run: `play` gives its outcome on one trace, or undefined when it has no partner. */
export interface PreparedCandidate {
  play(trace: Trace, trial: number): Promise<CandidateOutcome | undefined>;
  /** Problems found while preparing (bad lines in a recorded candidate's traces). */
  issues: Issue[];
  /** Candidate traces that no suite trace asked for (recorded candidates only). */
  unusedPartners(): string[];
}

export interface PrepareOptions {
  /** Overrides the provider a `tool-loop` candidate's model names (tests inject fakes here). */
  provider?: ModelProvider;
}

/** Loads whatever the candidate needs once per run: its module, prompt template, provider or recorded traces. */
export async function prepareCandidate(suite: ResolvedSuite, options: PrepareOptions = {}): Promise<PreparedCandidate> {
  const { candidate, catalog, budgets } = suite;
  const session = (trace: Trace) =>
    new ReplaySession(trace, createMockToolbox(trace, catalog, suite.mocks), budgets);
  const none = { issues: [], unusedPartners: () => [] };

  switch (candidate.kind) {
    case 'module': {
      const runner = moduleRunner(await loadModuleCandidate(candidate.module), catalog, budgets.maxWallMs);
      return { ...none, play: (trace, trial) => runner(session(trace), trial) };
    }
    case 'tool-loop': {
      const spec = parseModelSpec(candidate.model);
      if (!spec.ok) throw new Error(spec.message); // validated when the suite was loaded
      const runner = toolLoopRunner({
        provider: options.provider ?? createProvider(spec.provider),
        model: spec.model,
        catalog,
        decisionSchema: candidate.decisionSchema,
        renderPrompt: candidate.prompt ? await loadPromptTemplate(candidate.prompt) : undefined,
        promptVersion: candidate.promptVersion,
        pricing: suite.pricing,
        maxWallMs: budgets.maxWallMs,
      });
      return { ...none, play: (trace, trial) => runner(session(trace), trial) };
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
      const used = new Set<Trace>();
      return {
        issues,
        unusedPartners: () => [...partners.values()].flat().filter((t) => !used.has(t)).map((t) => t.id),
        async play(trace) {
          const list = partners.get(caseIdOf(trace)) ?? [];
          const partner =
            trace.trial !== undefined && list.some((t) => t.trial !== undefined)
              ? list.find((t) => t.trial === trace.trial)
              : list[0];
          if (!partner) return undefined;
          used.add(partner);
          return recordedOutcome(partner);
        },
      };
    }
  }
}
