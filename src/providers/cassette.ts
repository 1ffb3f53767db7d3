import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError, NotFoundError } from '../errors.js';
import type { Redactor } from '../secrets.js';
import { writeWhole } from '../write-whole.js';
import type { Exchange, ExchangeSink, ExchangeSource } from './transport.js';

export const CASSETTE_SCHEMA_ID = 'shadowgate.cassette/v1';

const ExchangeSchema = z.object({
  key: z.string(),
  request: z.object({ method: z.string(), url: z.string(), body: z.unknown() }),
  response: z.object({ status: z.number().int(), body: z.string() }),
  latencyMs: z.number().optional(),
});

interface CassetteFile {
  schema: typeof CASSETTE_SCHEMA_ID;
  suite: string;
  recordedAt: string;
  exchanges: Exchange[];
}

/** Reads a cassette for `--replay-only`. */
export function loadCassette(file: string): ExchangeSource & { size: number } {
  if (!existsSync(file)) {
    throw new NotFoundError(`no cassette at ${file}`, 'record one first: shadowgate run <suite> --record (with the provider reachable)');
  }
  let data: CassetteFile;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as CassetteFile;
  } catch (error) {
    throw new InputError([{ file, message: `not valid JSON: ${(error as Error).message}` }]);
  }
  if (data === null || typeof data !== 'object' || data.schema !== CASSETTE_SCHEMA_ID || !Array.isArray(data.exchanges)) {
    throw new InputError([{ file, path: 'schema', message: `expected a ${CASSETTE_SCHEMA_ID} cassette` }]);
  }
  const bad = data.exchanges.findIndex((e) => ExchangeSchema.safeParse(e).success === false);
  if (bad >= 0) throw new InputError([{ file, path: `exchanges.${bad}`, message: 'expected { key, request: { method, url, body }, response: { status, body } }' }]);
  const byKey = new Map(data.exchanges.map((e) => [e.key, e]));
  return { get: (key) => byKey.get(key), size: byKey.size };
}

/**
 * Collects a run's exchanges for `--record`; `save` writes them sorted by key, so that re-recording
 * gives small diffs, whole or not at all, with the run's secrets redacted (a cassette is committed to git).
 */
export function createCassetteRecorder(redactor?: Redactor): ExchangeSink & { save(file: string, suite: string, now: Date): number } {
  const byKey = new Map<string, Exchange>();
  return {
    put: (exchange) => void byKey.set(exchange.key, exchange),
    save(file, suite, now) {
      const exchanges = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const cassette: CassetteFile = { schema: CASSETTE_SCHEMA_ID, suite, recordedAt: now.toISOString(), exchanges };
      writeWhole(file, `${JSON.stringify(cassette, null, 2)}\n`, redactor);
      return exchanges.length;
    },
  };
}
