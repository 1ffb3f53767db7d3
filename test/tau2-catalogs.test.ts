import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createToolGuard } from '../src/replay/guard.js';
import { loadToolCatalog } from '../src/suite/load.js';
import { ROOT } from './e2e/helpers.js';
// @ts-expect-error a plain ESM script, the generator the catalogs' headers name
import { catalogText, DATA_MODEL, DOMAINS, extractTools, sourceOrigin } from '../fixtures/tau2-catalogs/generate-catalogs.mjs';

// tau2-bench's sources and result files (Sierra Research, MIT) live beside the project, never in it
// (TAU2_CORPUS names the folder when the project is checked out elsewhere).
const CORPUS = resolve(process.env.TAU2_CORPUS ?? join(ROOT, '../shared/corpora/tau2'));
const SOURCE = join(CORPUS, 'source');
const present = existsSync(SOURCE) && existsSync(join(CORPUS, 'results'));
if (!present) console.warn(`tau2 catalog checks skipped: ${CORPUS} is absent (the shared corpora are not checked out beside the project)`);

type Domain = 'airline' | 'retail' | 'telecom';
interface Extracted {
  name: string;
  toolType: string;
  parameters: { properties: Record<string, unknown>; required?: string[] };
}
const DOMAIN_LIST = Object.keys(DOMAINS as Record<Domain, unknown>) as Domain[];
const catalogFile = (domain: Domain) => join(ROOT, (DOMAINS as Record<Domain, { out: string }>)[domain].out);
const extracted = (domain: Domain): Extracted[] => extractTools(readFileSync(join(SOURCE, (DOMAINS as Record<Domain, { file: string }>)[domain].file), 'utf8'), (DATA_MODEL as Record<Domain, object>)[domain]);

/**
 * Recorded calls that break tau2's own schema: listed here (file, JSON path, why) rather than
 * loosening the schema. Empty: every call the agents made in the four files fits.
 */
const KNOWN_VIOLATIONS: string[] = [];

describe.skipIf(!present)('tau2 tool catalogs against tau2-bench (needs ../shared/corpora/tau2)', () => {
  it.each(DOMAIN_LIST)('%s: the committed catalog is what the generator makes from the source now', async (domain) => {
    const tools = extracted(domain);
    expect(readFileSync(catalogFile(domain), 'utf8')).toBe(catalogText(domain, tools, sourceOrigin(SOURCE)));
    // And the loaded catalog has the same tools, parameters and required arguments.
    const catalog = await loadToolCatalog(catalogFile(domain));
    expect(catalog.tools.map((t) => t.name).sort()).toEqual(tools.map((t) => t.name).sort());
    for (const tool of tools) {
      const entry = catalog.tools.find((t) => t.name === tool.name)!;
      const parameters = entry.parameters as Extracted['parameters'];
      expect(Object.keys(parameters.properties), tool.name).toEqual(Object.keys(tool.parameters.properties));
      expect(parameters.required ?? [], tool.name).toEqual(tool.parameters.required ?? []);
    }
  });

  it.each(DOMAIN_LIST)('%s: every tau2 WRITE tool is a write, every READ tool a read', async (domain) => {
    const catalog = await loadToolCatalog(catalogFile(domain));
    const tools = extracted(domain);
    expect(tools.some((t) => t.toolType === 'WRITE')).toBe(true);
    for (const tool of tools) {
      const effect = catalog.tools.find((t) => t.name === tool.name)!.effect;
      if (tool.toolType === 'WRITE') expect(effect, tool.name).toMatch(/^write-/);
      if (tool.toolType === 'READ') expect(effect, tool.name).toBe('read');
    }
  });

  it('the telecom catalog holds none of the user simulator\'s tools', async () => {
    const userTools = extractTools(readFileSync(join(SOURCE, 'telecom__user_tools.py'), 'utf8')) as Extracted[];
    expect(userTools.length).toBeGreaterThan(0);
    const names = new Set((await loadToolCatalog(catalogFile('telecom'))).tools.map((t) => t.name));
    expect(userTools.map((t) => t.name).filter((n) => names.has(n))).toEqual([]);
  });

  it("airline: the data model's types constrain the arguments (a cabin tau2 does not have, a passenger without a date of birth, a payment without an amount)", async () => {
    const text = readFileSync(catalogFile('airline'), 'utf8');
    // every parameter type the tools name is known: none is left unchecked
    expect(text).not.toContain('not checked here');
    const guard = createToolGuard(await loadToolCatalog(catalogFile('airline')));
    const booking = {
      user_id: 'mia_li_3668', origin: 'JFK', destination: 'SEA', flight_type: 'one_way', cabin: 'economy',
      flights: [{ flight_number: 'HAT136', date: '2024-05-20' }], passengers: [{ first_name: 'Mia', last_name: 'Li', dob: '1990-04-05' }],
      payment_methods: [{ payment_id: 'certificate_7504069', amount: 250 }], total_baggages: 0, nonfree_baggages: 0, insurance: 'no',
    };
    expect(guard.schemaProblem('book_reservation', booking)).toBeFalsy();
    for (const wrong of [
      { cabin: 'first' },
      { flight_type: 'multi_city' },
      { insurance: true },
      { flights: [{ flight_number: 'HAT136' }] },
      { passengers: [{ first_name: 'Mia', last_name: 'Li' }] },
      { payment_methods: [{ payment_id: 'certificate_7504069', amount: '250 dollars' }] },
    ]) expect(guard.schemaProblem('book_reservation', { ...booking, ...wrong }), JSON.stringify(wrong)).toBeTruthy();
    expect(guard.schemaProblem('update_reservation_passengers', { reservation_id: 'ZFA04Y', passengers: [{ first_name: 'Mia' }] })).toBeTruthy();
  });

  const files = present ? readdirSync(join(CORPUS, 'results')).filter((f) => f.endsWith('.json')).sort() : [];
  it.each(files)('every tool the agent calls in %s is in its domain\'s catalog, with arguments its schema accepts', async (file) => {
    const raw = JSON.parse(readFileSync(join(CORPUS, 'results', file), 'utf8')) as {
      info: { environment_info: { domain_name: string } };
      simulations: { messages: { role: string; tool_calls?: { name: string; arguments: Record<string, unknown>; requestor?: string }[] | null }[] }[];
    };
    // airline_tighter_policy runs airline's tools under another policy text.
    const domain = raw.info.environment_info.domain_name.replace(/_tighter_policy$/, '') as Domain;
    expect(DOMAIN_LIST).toContain(domain);
    const catalog = await loadToolCatalog(catalogFile(domain));
    const guard = createToolGuard(catalog);
    const names = new Set(catalog.tools.map((t) => t.name));
    const missing: string[] = [];
    const violations: string[] = [];
    let calls = 0;
    raw.simulations.forEach((sim, s) =>
      sim.messages.forEach((message, m) => {
        if (message.role !== 'assistant') return;
        (message.tool_calls ?? []).forEach((call, c) => {
          if (call.requestor === 'user') return;
          calls++;
          const path = `${file} $.simulations[${s}].messages[${m}].tool_calls[${c}]`;
          if (!names.has(call.name)) missing.push(`${path}: ${call.name}`);
          else {
            const problem = guard.schemaProblem(call.name, call.arguments);
            if (problem) violations.push(`${path}: ${call.name} ${problem}`);
          }
        });
      }),
    );
    expect(calls).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(violations).toEqual(KNOWN_VIOLATIONS.filter((v) => v.startsWith(`${file} `)));
  });
});
