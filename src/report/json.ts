import type { RunOutcome } from '../run/run-suite.js';
import type { TraceResult } from '../replay/types.js';
import { PRICING_TABLE } from '../providers/pricing.js';
import { reversibilityOf } from './reversibility-lines.js';
import type { Redactor } from '../secrets.js';
import { writeWhole } from '../write-whole.js';

export const RUN_SCHEMA_ID = 'shadowgate.run/v1';

/** The `shadowgate.run/v1` document less its results. Pure. */
export function runDocumentHead(outcome: RunOutcome) {
  const { meta } = outcome;
  return {
    schema: RUN_SCHEMA_ID,
    runId: meta.runId,
    suite: { name: meta.suite, file: meta.suiteFile, hash: meta.suiteHash },
    phase: meta.phase,
    candidate: { label: meta.candidate, hash: meta.candidateHash, model: meta.model, promptVersion: meta.promptVersion, source: meta.candidateSource },
    reference: meta.reference,
    startedAt: meta.startedAt,
    finishedAt: outcome.finishedAt,
    git: { commit: meta.gitCommit, ref: meta.gitRef },
    shard: outcome.shard ?? null,
    settings: outcome.settings,
    pricingVersion: PRICING_TABLE.version,
    counts: outcome.counts,
    metrics: outcome.metrics,
    gate: outcome.gate,
    reversibility: reversibilityOf(outcome),
    modelCalls: outcome.modelCalls,
    issues: outcome.issues,
    coverage: outcome.coverage ?? null,
    warnings: outcome.warnings,
  };
}

/** Orders a result's keys as the contract lists them. */
export function resultDocument(r: TraceResult) {
  const { traceId, caseId, status, agree, effectsAgree, sequenceSimilarity, divergence, costUsd, latencyMs, ...rest } = r;
  return { traceId, caseId, status, agree, effectsAgree, sequenceSimilarity, divergence, costUsd, latencyMs, ...rest };
}

/**
 * Writes a run as `shadowgate.run/v1`, whole or not at all and with the run's secrets
 * redacted, streaming the results so that a run of any size is written without holding it in memory.
 * A result given as text is the JSON a store holds it as (`Store.resultsJson`), written as it is.
 */
export function writeRunJson(file: string, outcome: RunOutcome, results: Iterable<TraceResult | string>, redactor?: Redactor): void {
  writeWhole(
    file,
    (write) => {
      const head = JSON.stringify(runDocumentHead(outcome), null, 2);
      write(`${head.slice(0, -2)},\n  "results": [`);
      // Buffered by whole results, so that no secret is split between two writes.
      let buffer = '';
      let first = true;
      for (const r of results) {
        buffer += `${first ? '\n' : ',\n'}    ${typeof r === 'string' ? r : JSON.stringify(resultDocument(r))}`;
        first = false;
        if (buffer.length > 1 << 16) {
          write(buffer);
          buffer = '';
        }
      }
      write(`${buffer}${first ? '' : '\n  '}]\n}\n`);
    },
    redactor,
  );
}
