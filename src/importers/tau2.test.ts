import { describe, expect, it } from 'vitest';
import { TraceSchema } from '../trace/schema.js';
import { importTau2Traces, jsonPath, tau2Domain, tau2Model } from './tau2.js';

// tau2-bench results made up for these tests, in the shape of tau2's data model (a real
// file of each domain is checked in test/e2e/tau2.test.ts where the shared corpora are present).
const greeting = { role: 'assistant', content: 'Hi! How can I help you today?', tool_calls: null, turn_idx: 0, cost: 0.0, usage: null };
const call = (id: string, name: string, args: object, requestor = 'assistant') => ({ id, name, arguments: args, requestor });
const said = (role: 'user' | 'assistant', content: string | null, toolCalls: object[] | null = null, usage: object | null = null) => ({ role, content, tool_calls: toolCalls, cost: usage ? 0.001 : 0.0, usage });
const answer = (id: string, content: string, over: { requestor?: string; error?: boolean } = {}) => ({ role: 'tool', id, content, requestor: over.requestor ?? 'assistant', error: over.error ?? false });
const usage = (prompt: number, completion: number) => ({ prompt_tokens: prompt, completion_tokens: completion });

function simulation(over: Record<string, unknown> = {}) {
  return {
    id: 'sim-1',
    task_id: '8',
    timestamp: '2025-10-13T11:33:40',
    start_time: '2025-10-13T11:33:40',
    end_time: '2025-10-13T11:34:40',
    duration: 60,
    termination_reason: 'user_stop',
    agent_cost: 0.0032,
    user_cost: 0.001,
    reward_info: { reward: 1.0, db_check: { db_match: true, db_reward: 1.0 } },
    trial: 0,
    seed: 7,
    messages: [
      greeting,
      said('user', 'Cancel R1 please'),
      said('assistant', null, [call('c1', 'cancel_reservation', { reservation_id: 'R0' })], usage(100, 10)),
      answer('c1', 'Error: Reservation R0 not found', { error: true }),
      said('assistant', null, [call('c2', 'cancel_reservation', { reservation_id: 'R1' })], usage(120, 12)),
      answer('c2', '{"status": "cancelled"}'),
      said('assistant', 'Done.', null, usage(130, 5)),
      said('user', '###STOP###'),
    ],
    ...over,
  };
}

function results(simulations: object[], over: { domain?: string; llm?: string | null; tasks?: object[] } = {}) {
  return JSON.stringify({
    timestamp: '2025-10-13T11:33:36',
    info: {
      git_commit: 'abc',
      num_trials: 1,
      max_steps: 200,
      max_errors: 10,
      user_info: { implementation: 'user_simulator', llm: 'xai/grok-3-mini' },
      agent_info: { implementation: 'llm_agent', llm: over.llm === undefined ? 'openai/gpt-4.1' : over.llm },
      environment_info: { domain_name: over.domain ?? 'airline', policy: '# policy' },
    },
    tasks: over.tasks ?? [
      {
        id: '8',
        description: { purpose: 'cancel' },
        evaluation_criteria: {
          actions: [
            { action_id: '8_0', requestor: 'assistant', name: 'get_reservation_details', arguments: { reservation_id: 'R1' } },
            { action_id: '8_1', name: 'cancel_reservation', arguments: { reservation_id: 'R1' } },
            { action_id: '8_2', requestor: 'user', name: 'toggle_data', arguments: {} },
          ],
        },
      },
    ],
    simulations,
  });
}

describe('importTau2Traces', () => {
  it('makes a trace per simulation: task and trial, usage to price, an error: true answer as a failed step, expected assistant actions as human actions', () => {
    const { traces, issues } = importTau2Traces(results([simulation()]), { file: 'r.json' });
    expect(issues).toEqual([]);
    expect(traces).toHaveLength(1);
    const trace = traces[0]!;
    expect(TraceSchema.safeParse(trace).success).toBe(true);
    expect(trace).toMatchObject({ id: 'airline-gpt-4.1-8-0', caseId: '8', trial: 0, workflow: 'tau2-airline', recordedAt: '2025-10-13T11:33:40', agent: { model: 'gpt-4.1', promptVersion: 'airline' }, input: { message: 'Cancel R1 please' } });
    expect(trace.steps).toEqual([
      // tau2's fixed greeting is no model call: it costs the 0 it recorded, and no usage is invented for it
      { type: 'llm', model: 'gpt-4.1', output: { text: 'Hi! How can I help you today?' }, costUsd: 0 },
      { type: 'llm', model: 'gpt-4.1', messages: [{ role: 'user', content: 'Cancel R1 please' }], output: { toolCalls: [{ id: 'c1', name: 'cancel_reservation', args: { reservation_id: 'R0' } }] }, usage: { inputTokens: 100, outputTokens: 10 } },
      { type: 'tool', id: 'c1', name: 'cancel_reservation', args: { reservation_id: 'R0' }, error: 'Error: Reservation R0 not found' },
      { type: 'llm', model: 'gpt-4.1', output: { toolCalls: [{ id: 'c2', name: 'cancel_reservation', args: { reservation_id: 'R1' } }] }, usage: { inputTokens: 120, outputTokens: 12 } },
      { type: 'tool', id: 'c2', name: 'cancel_reservation', args: { reservation_id: 'R1' }, result: { status: 'cancelled' } },
      { type: 'llm', model: 'gpt-4.1', output: { text: 'Done.' }, usage: { inputTokens: 130, outputTokens: 5 } },
    ]);
    expect(trace.outcome).toEqual({ status: 'completed', output: 'Done.' });
    // the requestor defaults to the assistant; the user's own action is not the agent's
    expect(trace.human).toEqual({ actions: [{ name: 'get_reservation_details', args: { reservation_id: 'R1' } }, { name: 'cancel_reservation', args: { reservation_id: 'R1' } }] });
    expect(trace.metadata).toMatchObject({ importedFrom: 'tau2', simulationId: 'sim-1', domain: 'airline', policy: 'airline', agentLlm: 'openai/gpt-4.1', terminationReason: 'user_stop', reward: 1, rewardInfo: { reward: 1 }, agentCostUsd: 0.0032, userSimulatorCostUsd: 0.001 });
    expect(trace.metadata).not.toHaveProperty('userToolCalls');
  });

  it("keeps the user simulator's tool calls (telecom's dual control) in metadata, never as the agent's steps", () => {
    const messages = [
      greeting,
      said('user', 'My data is off'),
      said('assistant', 'Please turn data on.', null, usage(50, 5)),
      said('user', null, [call('u1', 'toggle_data', {}, 'user')], usage(10, 1)),
      answer('u1', 'Mobile Data is now ON.', { requestor: 'user' }),
      said('user', 'Done, it works'),
      said('assistant', null, [call('a1', 'refuel_data', { line_id: 'L1', gb_amount: 2.0 })], usage(60, 6)),
      answer('a1', '{"ok": true}'),
      said('assistant', 'Refuelled.', null, usage(70, 3)),
    ];
    const { traces, issues } = importTau2Traces(results([simulation({ messages })], { domain: 'telecom' }), { file: 'r.json' });
    expect(issues).toEqual([]);
    const trace = traces[0]!;
    expect(trace.workflow).toBe('tau2-telecom');
    expect(trace.steps.filter((s) => s.type === 'tool').map((s) => s.name)).toEqual(['refuel_data']);
    expect(trace.steps.flatMap((s) => (s.type === 'llm' ? (s.output.toolCalls ?? []).map((c) => c.name) : []))).toEqual(['refuel_data']);
    expect(trace.metadata?.userToolCalls).toEqual([{ message: 3, id: 'u1', name: 'toggle_data', args: {}, result: 'Mobile Data is now ON.' }]);
    // the user's words reach the agent; their device's answers never did
    expect(trace.steps[2]).toMatchObject({ type: 'llm', messages: [{ role: 'user', content: 'Done, it works' }] });
  });

  it('reads the outcome from the termination reason and a transfer', () => {
    const transfer = [
      greeting,
      said('user', 'I want a human'),
      said('assistant', null, [call('t1', 'transfer_to_human_agents', { summary: 'wants a human' })], usage(10, 2)),
      answer('t1', 'Transfer successful'),
    ];
    const sims = [
      simulation({ id: 'a', trial: 0, termination_reason: 'max_steps', reward_info: null }),
      simulation({ id: 'b', trial: 1, termination_reason: 'too_many_errors' }),
      simulation({ id: 'c', trial: 2, termination_reason: 'agent_error' }),
      simulation({ id: 'd', trial: 3, termination_reason: 'user_stop', messages: transfer }),
      simulation({ id: 'e', trial: 4, termination_reason: 'agent_stop' }),
      simulation({ id: 'f', trial: 5, termination_reason: 'some_new_reason' }),
    ];
    const { traces, issues } = importTau2Traces(results(sims), { file: 'r.json' });
    expect(issues).toEqual([]);
    expect(traces.map((t) => t.outcome?.status)).toEqual(['aborted', 'aborted', 'aborted', 'escalated', 'completed', 'completed']);
    expect(traces[0]!.metadata).toMatchObject({ reward: null, rewardInfo: null, terminationReason: 'max_steps' });
  });

  it('accepts what tau2 allows: null and missing optional fields, multi-tool messages, system messages, JSON-string arguments, empty call ids', () => {
    const messages = [
      { role: 'system', content: 'policy' },
      { role: 'user', content: 'Two lookups' },
      { role: 'assistant', content: null, tool_calls: [{ name: 'get_user_details', arguments: '{"user_id": "u1"}' }, { id: '', name: 'get_reservation_details', arguments: { reservation_id: 'R1' } }] },
      { role: 'tool', tool_messages: [{ role: 'tool', id: '', content: '{"name": "ada"}' }, { role: 'tool', id: '', content: 'Error: no such reservation', error: true }] },
      { role: 'assistant', content: 'Found you.' },
    ];
    const sim = { id: 'only', task_id: 8, termination_reason: 'user_stop', messages };
    const { traces, issues } = importTau2Traces(results([sim], { tasks: [{ id: '8', evaluation_criteria: null }] }), { file: 'r.json' });
    expect(issues).toEqual([]);
    const trace = traces[0]!;
    expect(TraceSchema.safeParse(trace).success).toBe(true);
    expect(trace).toMatchObject({ caseId: '8', id: 'airline-gpt-4.1-8-only' });
    expect(trace).not.toHaveProperty('trial');
    // no evaluation criteria: no reference actions (effects agreement is n/a), never an empty list that would claim "no effects expected"
    expect(trace).not.toHaveProperty('human');
    expect(trace.steps.filter((s) => s.type === 'tool')).toEqual([
      { type: 'tool', id: '2.0', name: 'get_user_details', args: { user_id: 'u1' }, result: { name: 'ada' } },
      { type: 'tool', id: '2.1', name: 'get_reservation_details', args: { reservation_id: 'R1' }, error: 'Error: no such reservation' },
    ]);
    expect(trace.steps[0]).toMatchObject({ messages: [{ role: 'system', content: 'policy' }, { role: 'user', content: 'Two lookups' }] });
    // no usage and no recorded cost: the cost is unknown (null downstream), not 0
    expect(trace.steps.filter((s) => s.type === 'llm').every((s) => s.type === 'llm' && s.costUsd === undefined && s.usage === undefined)).toBe(true);
    expect(trace.metadata).toMatchObject({ agentCostUsd: null, userSimulatorCostUsd: null, reward: null, rewardInfo: null });
  });

  it('lists an unexpected shape with the file and its JSON path, leaves out a simulation with an unreadable message whole, and imports the rest', () => {
    const bad = simulation({ id: 'bad', trial: 1 });
    (bad.messages as object[])[2] = said('assistant', null, [{ id: 'x', arguments: {} }], usage(1, 1));
    (bad.messages as object[])[5] = { role: 'robot', content: 'beep' };
    const noTrial = { ...simulation({ id: 'worse', trial: 2 }), termination_reason: undefined };
    const { traces, issues } = importTau2Traces(results([simulation(), bad, noTrial, simulation({ id: 'again' })]), { file: 'x.json' });
    expect(issues).toEqual([
      { file: 'x.json', path: 'simulations[1].messages[2].tool_calls[0].name', message: 'required; the simulation is left out' },
      { file: 'x.json', path: 'simulations[1].messages[5]', message: 'not a tau2 message: role "robot" (expected system, user, assistant or tool); the simulation is left out' },
      { file: 'x.json', path: 'simulations[2].termination_reason', message: 'required; the simulation is left out' },
      { file: 'x.json', path: 'simulations[3]', message: 'a second simulation of task 8, trial 0; left out' },
    ]);
    // a trace without the agent's cancel would read as a run that cancelled nothing: no trace rather than a wrong one
    expect(traces.map((t) => t.metadata?.simulationId)).toEqual(['sim-1']);
  });

  it('leaves out a simulation whose messages contradict the conversation, rather than a trace that misstates what the agent did', () => {
    const base = simulation().messages;
    const variant = (id: string, edit: (m: object[]) => void) => {
      const messages = [...base];
      edit(messages);
      return simulation({ id, trial: Number(id.slice(1)), messages });
    };
    const sims = [
      // the cancel answered twice: a second tool step would be a second cancel
      variant('v0', (m) => m.splice(6, 0, answer('c2', '{"status": "cancelled"}'))),
      // the first call never answered, yet the agent went on
      variant('v1', (m) => m.splice(3, 1)),
      // an answer to a call nobody made
      variant('v2', (m) => m.splice(6, 0, answer('zz', '{"status": "cancelled"}'))),
      // the agent's cancel answered as if it were the user's
      variant('v3', (m) => (m[5] = answer('c2', '{"status": "cancelled"}', { requestor: 'user' }))),
      // the agent's cancel said to be the user's
      variant('v4', (m) => (m[4] = said('assistant', null, [call('c2', 'cancel_reservation', { reservation_id: 'R1' }, 'user')], usage(120, 12)))),
      // a run cut short: its last call unanswered is no contradiction (it never ran)
      variant('v5', (m) => m.splice(5)),
    ];
    const { traces, issues } = importTau2Traces(results(sims), { file: 'x.json' });
    expect(issues).toEqual([
      { file: 'x.json', path: 'simulations[0].messages[6]', message: 'an answer for the agent\'s tool call c2, which no earlier assistant message made or which was answered already; the simulation is left out' },
      { file: 'x.json', path: 'simulations[1].messages[3]', message: "the agent's tool call c1 (cancel_reservation) was never answered, yet the conversation went on; the simulation is left out" },
      { file: 'x.json', path: 'simulations[2].messages[6]', message: 'an answer for the agent\'s tool call zz, which no earlier assistant message made or which was answered already; the simulation is left out' },
      { file: 'x.json', path: 'simulations[3].messages[5]', message: "an answer for the user's tool call c2, which no earlier user message made or which was answered already; the simulation is left out" },
      { file: 'x.json', path: 'simulations[3].messages[6]', message: "the agent's tool call c2 (cancel_reservation) was never answered, yet the conversation went on; the simulation is left out" },
      { file: 'x.json', path: 'simulations[4].messages[4].tool_calls[0].requestor', message: 'an assistant message with a tool call whose requestor is the user: whose call it was is unknown; the simulation is left out' },
      { file: 'x.json', path: 'simulations[4].messages[5]', message: "an answer for the agent's tool call c2, which no earlier assistant message made or which was answered already; the simulation is left out" },
    ]);
    expect(traces.map((t) => t.metadata?.simulationId)).toEqual(['v5']);
    expect(traces[0]!.steps.filter((s) => s.type === 'tool').map((s) => s.name)).toEqual(['cancel_reservation']);
  });

  it("lists a kept simulation's problems in the order of their paths, whichever step found them", () => {
    const messages = [...simulation().messages];
    // found while the messages are read: usage that is not litellm's
    messages[6] = said('assistant', 'Done.', null, { prompt_tokens: 'many' });
    // found afterwards, when the steps are made: arguments that are not a JSON object, before the message above
    messages[4] = said('assistant', null, [call('c2', 'cancel_reservation', 'R1, please' as unknown as object)], usage(120, 12));
    for (let k = 0; k < 8; k++) messages.push(said('user', `more ${k}`));
    messages.push(said('assistant', 'Anything else?', null, { completion_tokens: -1 }));
    const { traces, issues } = importTau2Traces(results([simulation({ messages })]), { file: 'x.json' });
    expect(traces).toHaveLength(1);
    expect(issues.map((i) => i.path)).toEqual([
      'simulations[0].messages[4]',
      'simulations[0].messages[6].usage.completion_tokens',
      'simulations[0].messages[6].usage.prompt_tokens',
      'simulations[0].messages[16].usage.completion_tokens',
      'simulations[0].messages[16].usage.prompt_tokens',
    ]);
    expect(issues[0]!.message).toMatch(/^tool call c2 \(cancel_reservation\): arguments are not a JSON object/);
  });

  it('gives no reference actions to the runs of a task with an unreadable expected action, rather than a shorter list', () => {
    const tasks = [{ id: '8', evaluation_criteria: { actions: [{ name: 'cancel_reservation', arguments: { reservation_id: 'R1' } }, { name: 'book_reservation' }] } }];
    const { traces, issues } = importTau2Traces(results([simulation()], { tasks }), { file: 'x.json' });
    expect(issues).toEqual([{ file: 'x.json', path: 'tasks[0].evaluation_criteria.actions[1].arguments', message: 'required' }]);
    expect(traces[0]).not.toHaveProperty('human');
  });

  it('says when the file is not tau2 results, and when it names no model', () => {
    expect(importTau2Traces(JSON.stringify([{ task_id: 1, traj: [] }]), { file: 'v1.json' }).issues).toEqual([
      { file: 'v1.json', message: 'not a tau2 results file: expected one JSON object with info, tasks, simulations (what `tau2 run` saves)' },
    ]);
    expect(importTau2Traces(results([simulation()], { llm: null }), { file: 'r.json' }).issues).toEqual([{ file: 'r.json', path: 'info.agent_info.llm', message: 'no agent model: the file does not name one; pass --model' }]);
    const named = importTau2Traces(results([simulation()], { llm: null }), { file: 'r.json', model: 'gpt-4.1-mini', workflow: 'mine' });
    expect(named.traces[0]).toMatchObject({ workflow: 'mine', agent: { model: 'gpt-4.1-mini' } });
    expect(importTau2Traces('', { file: 'empty.json' }).issues).toEqual([
      { file: 'empty.json', message: 'not a tau2 results file: the file is empty (expected one JSON object with info, tasks, simulations)' },
    ]);
    expect(importTau2Traces(JSON.stringify({ info: {}, tasks: 'none', simulations: [] }), { file: 'r.json' }).issues).toEqual([{ file: 'r.json', path: 'tasks', message: expect.stringContaining('expected array') }]);
  });

  it('puts a policy variant in its domain: one workflow, the policy as prompt version', () => {
    expect(tau2Domain('airline_tighter_policy')).toEqual({ domain: 'airline', policy: 'airline_tighter_policy' });
    expect(tau2Domain('telecom-workflow')).toEqual({ domain: 'telecom', policy: 'telecom-workflow' });
    expect(tau2Domain('retail')).toEqual({ domain: 'retail', policy: 'retail' });
    const { traces } = importTau2Traces(results([simulation()], { domain: 'airline_tighter_policy' }), { file: 'r.json' });
    expect(traces[0]).toMatchObject({ workflow: 'tau2-airline', agent: { promptVersion: 'airline_tighter_policy' }, metadata: { domain: 'airline_tighter_policy', policy: 'airline_tighter_policy' } });
    expect(tau2Model('xai/grok-3-mini')).toBe('grok-3-mini');
    expect(tau2Model('gpt-4.1')).toBe('gpt-4.1');
    expect(jsonPath(['simulations', 3, 'messages', 7, 'tool_calls', 0])).toBe('simulations[3].messages[7].tool_calls[0]');
  });
});
