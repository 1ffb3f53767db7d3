import { describe, expect, it } from 'vitest';
import { noOutcomeCause } from './types.js';

describe('noOutcomeCause', () => {
  it('is null for a result with an outcome, and for an unpaired one', () => {
    for (const status of ['completed', 'escalated', 'failed', 'aborted', 'unpaired'] as const) expect(noOutcomeCause(status, null)).toBeNull();
  });

  it('blames the candidate for leaving the path, its budget, a loop, invalid output, throwing or crashing', () => {
    expect(noOutcomeCause('diverged', { code: 'SG_OFF_TRACE' })).toBe('candidate');
    expect(noOutcomeCause('budget_exceeded', { code: 'SG_BUDGET_EXCEEDED', budget: 'maxSteps' })).toBe('candidate');
    expect(noOutcomeCause('loop_detected', { code: 'SG_LOOP_DETECTED' })).toBe('candidate');
    expect(noOutcomeCause('invalid_output', { code: 'INVALID_OUTPUT' })).toBe('candidate');
    for (const code of ['CANDIDATE_THREW', 'CANDIDATE_CRASHED', 'CANDIDATE_OUTPUT_INVALID', 'SG_TOOL_FAILED']) expect(noOutcomeCause('error', { code })).toBe('candidate');
  });

  it('blames the infrastructure for providers past their retries, cassette misses, the run budget and the harness', () => {
    expect(noOutcomeCause('budget_exceeded', { code: 'SG_BUDGET_EXCEEDED', budget: 'run.maxCostUsd' })).toBe('infrastructure');
    for (const code of ['PROVIDER_HTTP_503', 'PROVIDER_HTTP_429', 'PROVIDER_TIMEOUT', 'PROVIDER_CONNECTION', 'SG_NOT_FOUND', 'SG_INTERNAL', 'TRACE_NOT_REPLAYABLE']) {
      expect(noOutcomeCause('error', { code })).toBe('infrastructure');
    }
  });
});
