import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunOutcome } from '../run/run-suite.js';
import type { TraceResult } from '../replay/types.js';
import { PRICING_TABLE } from '../providers/pricing.js';
import { reversibilityOf } from './reversibility-lines.js';

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
 * Writes a run as `shadowgate.run/v1`, streaming the results so that a run of
 * any size is written without holding it in memory.
 */
export function writeRunJson(file: string, outcome: RunOutcome, results: Iterable<TraceResult>): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  try {
    const head = JSON.stringify(runDocumentHead(outcome), null, 2);
    writeSync(fd, `${head.slice(0, -2)},\n  "results": [`);
    let buffer = '';
    let first = true;
    for (const r of results) {
      buffer += `${first ? '\n' : ',\n'}    ${JSON.stringify(resultDocument(r))}`;
      first = false;
      if (buffer.length > 1 << 16) {
        writeSync(fd, buffer);
        buffer = '';
      }
    }
    writeSync(fd, `${buffer}${first ? '' : '\n  '}]\n}\n`);
  } finally {
    closeSync(fd);
  }
}
