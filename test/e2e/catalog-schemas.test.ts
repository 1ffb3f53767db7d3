import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

// A made-up candidate for this test: policy-v1 but sending the amount to check_refund_policy as a
// string, which the catalog's schema (`amount: { type: number }`) forbids on every trace.
const STRING_AMOUNT = `
import { run as policyRun } from './policy-v1.mjs';
export async function run(input, ctx) {
  const tools = { ...ctx.tools, check_refund_policy: (args) => ctx.tools.check_refund_policy({ ...args, amount: String(args.amount) }) };
  return policyRun(input, { ...ctx, tools });
}
`;

function suiteWith(name: string, catalog: string): string {
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8')
    .replace('refund-triage/tools.yaml', `refund-triage/${catalog}`)
    .replace('agents/policy-v1.mjs', 'agents/string-amount.mjs')
    .replace('policyViolations: { max: 0 }', 'policyViolations: { max: 0 }\n  safetyViolations: { max: 0 }');
  writeFileSync(join(dir, `suites/${name}.yaml`), suite);
  return `suites/${name}.yaml`;
}

it('a schema typo in the catalog is a located config error in validate and run, not a silently dropped argument check', async () => {
  writeFileSync(join(dir, 'fixtures/refund-triage/agents/string-amount.mjs'), STRING_AMOUNT);
  const catalog = readFileSync(join(dir, 'fixtures/refund-triage/tools.yaml'), 'utf8');
  const target = 'amount: { type: number, minimum: 0, description: "Requested amount in USD" }';
  expect(catalog).toContain(target);
  writeFileSync(join(dir, 'fixtures/refund-triage/typo.yaml'), catalog.replace(target, target.replace('type: number', 'type: numbr')));
  const line = catalog.split('\n').findIndex((l) => l.includes(target)) + 1;
  const toolIndex = catalog.slice(0, catalog.indexOf(target)).split('- name:').length - 2;

  // With the intact catalog, the candidate's bad arguments are caught and fail the gate.
  const intact = await cli(dir, 'run', suiteWith('intact', 'tools.yaml'), '--json', 'out/intact.json', '--db', 'db/c.db');
  expect(intact.code).toBe(1);
  const run = JSON.parse(readFileSync(join(dir, 'out/intact.json'), 'utf8'));
  const check = run.gate.checks.find((c: { name: string }) => c.name === 'safetyViolations');
  expect(check.status).toBe('fail');
  expect(check.value).toBeGreaterThan(0);

  // With the typo, the catalog is refused where it is wrong, instead of checking nothing.
  const where = `typo.yaml:${line}: tools.${toolIndex}.parameters.properties.amount.type: tool check_refund_policy: not a valid JSON Schema`;
  const validate = await cli(dir, 'validate', 'fixtures/refund-triage/typo.yaml');
  expect(validate.code).toBe(2);
  expect(validate.stdout).toContain(where);
  expect(validate.stdout).not.toMatch(/\b0 problem/);
  const typo = await cli(dir, 'run', suiteWith('typo', 'typo.yaml'), '--db', 'db/c.db');
  expect(typo.code).toBe(2);
  expect(typo.stderr).toContain(where);
  expect(typo.stderr).not.toContain('bug');
});

it('a decisionSchema that does not compile is a located config error', async () => {
  const suite = readFileSync(join(dir, 'suites/refund-triage-replay.yaml'), 'utf8');
  expect(suite).toMatch(/decisionSchema:/);
  writeFileSync(join(dir, 'suites/bad-decision.yaml'), suite.replace(/(decisionSchema:[\s\S]*?)type: object/, '$1type: objekt'));
  const validate = await cli(dir, 'validate', 'suites/bad-decision.yaml');
  expect(validate.code).toBe(2);
  expect(validate.stdout).toMatch(/bad-decision\.yaml:\d+: candidate\.decisionSchema\.type: not a valid JSON Schema/);
});

it('a misspelt keyword (requried, maxLenght) is a located config error too: it would check nothing', async () => {
  const catalog = readFileSync(join(dir, 'fixtures/refund-triage/tools.yaml'), 'utf8');
  const target = catalog.split('\n').find((l) => /^\s+required: \[/.test(l))!;
  expect(target).toBeDefined();
  writeFileSync(join(dir, 'fixtures/refund-triage/misspelt.yaml'), catalog.replace(target, target.replace('required:', 'requried:')));
  const line = catalog.split('\n').indexOf(target) + 1;
  const validate = await cli(dir, 'validate', 'fixtures/refund-triage/misspelt.yaml');
  expect(validate.code).toBe(2);
  expect(validate.stdout).toMatch(new RegExp(`misspelt\\.yaml:${line}: tools\\.\\d+\\.parameters\\.requried: tool \\w+: not a valid JSON Schema: requried is not a JSON Schema keyword`));
  // Vendor extensions stay allowed.
  writeFileSync(join(dir, 'fixtures/refund-triage/extended.yaml'), catalog.replace(target, `${target}\n${target.replace(/required:.*/, '"x-owner": billing')}`));
  const extended = await cli(dir, 'validate', 'fixtures/refund-triage/extended.yaml');
  expect(extended.code).toBe(0);
});
