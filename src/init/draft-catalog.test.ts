import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aTrace } from '../testing/builders.js';
import { EFFECT_CLASSES, ToolCatalogSchema, undecidedEffects } from '../trace/catalog.js';
import { draftTools, renderDraftCatalog } from './draft-catalog.js';

describe('draftTools', () => {
  it('finds every tool in tool steps, model tool calls and human actions, in the order first seen, leaving final_decision out', () => {
    const traces = [
      aTrace('t1')
        .withModelStep([{ name: 'lookup', args: { id: 'a' } }, { name: 'final_decision', args: { action: 'x' } }])
        .withToolCall('lookup', { id: 'a' }, { ok: true })
        .withHumanDecision({ action: 'x' }, [{ name: 'notify', args: { to: 'a', body: 'hi' } }])
        .build(),
      aTrace('t2').withToolCall('lookup', { id: 'b', verbose: true }, { ok: true }).build(),
    ];
    expect(draftTools(traces)).toEqual([
      {
        name: 'lookup',
        calls: 3,
        parameters: { type: 'object', properties: { id: { type: 'string' }, verbose: { type: 'boolean' } }, required: ['id'] },
      },
      { name: 'notify', calls: 1, parameters: { type: 'object', properties: { to: { type: 'string' }, body: { type: 'string' } }, required: ['to', 'body'] } },
    ]);
  });

  it('writes a name YAML would misread as a string', () => {
    const raw = parse(renderDraftCatalog([{ name: 'odd: name', calls: 1, parameters: {} }], 'x.jsonl')) as { tools: { name: unknown }[] };
    expect(raw.tools[0]!.name).toBe('odd: name');
  });
});

describe('renderDraftCatalog', () => {
  it('is a catalog the schema reads back, every effect unknown, which undecidedEffects refuses by name', () => {
    const tools = draftTools([aTrace('t1').withToolCall('get_user', { user_id: 'u1' }, {}).withToolCall('true', { n: 1 }, {}).build()]);
    const raw: unknown = parse(renderDraftCatalog(tools, 'traces.jsonl'));
    expect(ToolCatalogSchema.safeParse(raw).success).toBe(true);
    expect(raw).toEqual({
      tools: [
        { name: 'get_user', effect: 'unknown', parameters: tools[0]!.parameters },
        { name: 'true', effect: 'unknown', parameters: tools[1]!.parameters },
      ],
    });
    const classes = EFFECT_CLASSES.join(' | ');
    expect(undecidedEffects(raw)).toEqual([
      { path: ['tools', 0, 'effect'], message: `choose an effect class for get_user: ${classes}` },
      { path: ['tools', 1, 'effect'], message: `choose an effect class for true: ${classes}` },
    ]);
  });

  it('writes a name YAML would misread as a string', () => {
    const raw = parse(renderDraftCatalog([{ name: 'odd: name', calls: 1, parameters: {} }], 'x.jsonl')) as { tools: { name: unknown }[] };
    expect(raw.tools[0]!.name).toBe('odd: name');
  });
});
