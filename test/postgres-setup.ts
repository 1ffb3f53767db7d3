/**
 * Vitest globalSetup: a PostgreSQL server for the store tests. `SHADOWGATE_TEST_PG_URL` names
 * one to use; otherwise a throwaway cluster is started (scripts/throwaway-postgres.mjs, which
 * `npm run bench:store` uses too) and stopped and deleted after the tests. When neither is
 * there, the tests that need PostgreSQL fail with the reason (`provide('pgUrl')` is null,
 * `pgMissing` says why).
 */
import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres } from '../scripts/throwaway-postgres.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
    pgMissing: string;
  }
}

const MISSING = ', or set SHADOWGATE_TEST_PG_URL to a database the tests may create schemas in';

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const given = process.env.SHADOWGATE_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    project.provide('pgMissing', '');
    return undefined;
  }
  const cluster = await startThrowawayPostgres();
  if ('missing' in cluster) {
    project.provide('pgUrl', null);
    project.provide('pgMissing', `no PostgreSQL for the store tests: ${cluster.missing}${MISSING}`);
    return undefined;
  }
  project.provide('pgUrl', cluster.url);
  project.provide('pgMissing', '');
  return cluster.stop;
}
