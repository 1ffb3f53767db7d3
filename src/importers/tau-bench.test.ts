import { describe, expect, it } from 'vitest';
import { importTauBenchTraces, tauBenchFileName } from './tau-bench.js';

// Runs in tau-bench's historical-trajectories format, made up for these tests (a real file
// is checked in test/e2e/tau-bench.test.ts where the shared corpora are present).
const call = (id: string, name: string, args: object) => ({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] });
const answer = (id: string, name: string, content: string) => ({ role: 'tool', tool_call_id: id, name, content });

function run(over: { task_id?: number; trial?: number; reward?: number; reward_info?: unknown; traj?: object[]; source?: string } = {}) {
  return {
    task_id: over.task_id ?? 7,
    trial: over.trial ?? 0,
    reward: over.reward ?? 1,
    info: {
      task: { user_id: 'ada_1', instruction: 'You are ada_1 and want to cancel reservation R1.', actions: [{ name: 'cancel_reservation', kwargs: { reservation_id: 'R1' } }], outputs: [] },
      source: over.source ?? 'user',
      user_cost: 0.002,
      reward_info: over.reward_info === undefined ? { reward: over.reward ?? 1, info: { r_actions: 1 }, actions: [] } : over.reward_info,
    },
    traj: over.traj ?? [
      { role: 'system', content: 'policy' },
      { role: 'user', content: 'Cancel R1 please' },
      call('c1', 'cancel_reservation', { reservation_id: 'R0' }),
      answer('c1', 'cancel_reservation', 'Error: reservation not found'),
      call('c1', 'cancel_reservation', { reservation_id: 'R1' }),
      answer('c1', 'cancel_reservation', '{"status": "cancelled"}'),
      { role: 'assistant', content: 'Done.' },
      { role: 'user', content: '###STOP###' },
    ],
  };
}

describe('importTauBenchTraces', () => {
  it('makes a trace per run: case and trial, ground truth as human actions, an Error answer as a failed step, the reward in metadata', () => {
    const { traces, issues } = importTauBenchTraces(JSON.stringify([run()]), { file: 'runs/gpt-4o-airline.json' });
    expect(issues).toEqual([]);
    expect(traces).toEqual([
      {
        schema: 'shadowgate.trace/v1',
        id: 'gpt-4o-airline-7-0',
        caseId: 'task-7',
        trial: 0,
        workflow: 'tau-bench-airline',
        agent: { model: 'gpt-4o' },
        input: { message: 'Cancel R1 please', user_id: 'ada_1', instruction: 'You are ada_1 and want to cancel reservation R1.' },
        steps: [
          { type: 'llm', model: 'gpt-4o', messages: [{ role: 'system', content: 'policy' }, { role: 'user', content: 'Cancel R1 please' }], output: { toolCalls: [{ id: 'c1', name: 'cancel_reservation', args: { reservation_id: 'R0' } }] } },
          { type: 'tool', id: 'c1', name: 'cancel_reservation', args: { reservation_id: 'R0' }, error: 'Error: reservation not found' },
          { type: 'llm', model: 'gpt-4o', output: { toolCalls: [{ id: 'c1', name: 'cancel_reservation', args: { reservation_id: 'R1' } }] } },
          // the id comes back for another call, as in tau-bench's files: the answer goes with the latest call
          { type: 'tool', id: 'c1', name: 'cancel_reservation', args: { reservation_id: 'R1' }, result: { status: 'cancelled' } },
          { type: 'llm', model: 'gpt-4o', output: { text: 'Done.' } },
        ],
        outcome: { status: 'completed', output: 'Done.' },
        human: { actions: [{ name: 'cancel_reservation', args: { reservation_id: 'R1' } }] },
        metadata: { importedFrom: 'tau-bench', reward: 1, rewardInfo: { reward: 1, info: { r_actions: 1 }, actions: [] }, expectedOutputs: [], endedBy: 'user', userSimulatorCostUsd: 0.002 },
      },
    ]);
  });

  it('ends a run cut off by the step limit as aborted, and one handed to a person as escalated', () => {
    const escalation = [{ role: 'user', content: 'I want a person' }, call('t', 'transfer_to_human_agents', { summary: 'wants a person' }), answer('t', 'transfer_to_human_agents', 'Transfer successful')];
    const { traces } = importTauBenchTraces(
      JSON.stringify([run({ reward: 0, reward_info: null, trial: 1, source: 'search_direct_flight' }), run({ reward: 0, trial: 2, traj: escalation, source: 'transfer_to_human_agents' })]),
      { file: 'gpt-4o-airline.json' },
    );
    // tau-bench's info.source is what ended the episode (here the last tool called), not the user simulator
    expect(traces.map((t) => [t.id, t.outcome?.status, t.metadata?.reward, t.metadata?.stoppedAt, t.metadata?.endedBy])).toEqual([
      ['gpt-4o-airline-7-1', 'aborted', 0, 'step limit', 'search_direct_flight'],
      ['gpt-4o-airline-7-2', 'escalated', 0, undefined, 'transfer_to_human_agents'],
    ]);
  });

  it('marks a run not replayable where a call has arguments that are not JSON, naming the step and tool', () => {
    const broken = { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'cancel_reservation', arguments: "{'reservation_id': 'R1'}" } }] };
    const traj = [{ role: 'user', content: 'Cancel R1' }, broken, answer('c2', 'cancel_reservation', '{"status": "cancelled"}')];
    const { traces, issues } = importTauBenchTraces(JSON.stringify([run({ traj }), run({ trial: 1 })]), { file: 'gpt-4o-airline.json' });
    expect(traces[0]!.metadata).toMatchObject({ replayable: false, notReplayableReason: 'step 1 (cancel_reservation) has arguments that are not a JSON object' });
    expect(traces[1]!.metadata).not.toHaveProperty('replayable');
    expect(issues).toEqual([{ file: 'gpt-4o-airline.json', path: '0.traj.1', message: expect.stringContaining('tool call c2 (cancel_reservation): arguments are not a JSON object') }]);
  });

  it('takes --model and --workflow over the file name, and needs a model from one of them', () => {
    expect(importTauBenchTraces(JSON.stringify([run()]), { file: 'gpt-4o-airline.json', model: 'gpt-4o-2024-08-06', workflow: 'airline' }).traces[0]).toMatchObject({ id: 'gpt-4o-2024-08-06-airline-7-0', workflow: 'airline', agent: { model: 'gpt-4o-2024-08-06' } });
    expect(importTauBenchTraces('[]', { file: 'runs.json' })).toEqual({ traces: [], issues: [{ file: 'runs.json', message: 'no model: name the file <model>-<domain>.json, as tau-bench does, or pass --model' }] });
    expect(tauBenchFileName('x/sonnet-35-new-retail.json')).toEqual({ model: 'sonnet-35-new', domain: 'retail' });
  });

  it('reports a malformed run with its index and path, a repeated run once, and imports the rest', () => {
    const bad = { ...run({ trial: 3 }), info: { ...run().info, task: { actions: [{ name: 'x' }] } } };
    const { traces, issues } = importTauBenchTraces(JSON.stringify([run(), bad, run()]), { file: 'gpt-4o-airline.json' });
    expect(traces).toHaveLength(1);
    expect(issues).toEqual([
      { file: 'gpt-4o-airline.json', path: '1.info.task.actions.0.kwargs', message: 'required' },
      { file: 'gpt-4o-airline.json', path: '2', message: 'a second run of task 7, trial 0; left out' },
    ]);
  });
});
