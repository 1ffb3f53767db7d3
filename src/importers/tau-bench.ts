import { z } from 'zod';
import { TRACE_SCHEMA_ID, type Outcome, type Step, type Trace } from '../trace/schema.js';
import { formatPath } from '../trace/zod-issues.js';
import { firstUserContent, lastModelText, replayability, stepsOf, type Turn } from './conversation.js';
import { fileStem } from './message-log.js';
import { OpenAIMessagesSchema, openAITurns } from './openai.js';
import { readRecords, recordIssue, requiredField } from './records.js';
import type { Importer } from './types.js';

/** The tool through which a tau-bench agent hands the customer to a person. */
export const TAU_BENCH_ESCALATION_TOOL = 'transfer_to_human_agents';

/** One run of tau-bench's historical trajectories (`historical_trajectories/<model>-<domain>.json`). */
const RunSchema = z.object({
  task_id: z.number().int().nonnegative(),
  trial: z.number().int().nonnegative(),
  reward: z.number(),
  info: z.object({
    task: z.object({
      user_id: z.string().optional(),
      instruction: z.string().optional(),
      actions: z.array(z.object({ name: z.string().min(1), kwargs: z.record(z.string(), z.unknown()) })),
      outputs: z.array(z.unknown()).optional(),
    }),
    // What ended the episode: `user`, or the name of the tool called last.
    source: z.string().optional(),
    user_cost: z.number().nullish(),
    // null where the run hit the step limit before the user simulator ended it
    reward_info: z.record(z.string(), z.unknown()).nullable(),
  }),
  traj: OpenAIMessagesSchema,
});
type Run = z.infer<typeof RunSchema>;
const RUN_KEYS = Object.keys(RunSchema.shape);

/**
 * `<model>-<domain>.json` (`gpt-4o-airline.json`, `sonnet-35-new-retail.json`): the model
 * is everything before the last hyphen, the domain after it.
 */
export function tauBenchFileName(file: string): { model?: string; domain?: string } {
  const stem = fileStem(file);
  const cut = stem.lastIndexOf('-');
  return cut > 0 ? { model: stem.slice(0, cut), domain: stem.slice(cut + 1) } : {};
}

/** A tool message whose text starts with `Error` is how tau-bench's environment reports a failed action. */
const failed = (content: unknown) => typeof content === 'string' && content.startsWith('Error');

/**
 * tau-bench historical trajectories: one trace per run, the task's ground-truth actions
 * as `human.actions`, the trial as `trial`, the recorded reward in metadata. The model
 * comes from `--model`, else from the file name. Pure.
 */
export const importTauBenchTraces: Importer = (text, options) => {
  const { records, issues } = readRecords(text, options.file);
  const named = tauBenchFileName(options.file);
  const model = options.model ?? named.model;
  if (!model) {
    return { traces: [], issues: [...issues, { file: options.file, message: 'no model: name the file <model>-<domain>.json, as tau-bench does, or pass --model' }] };
  }
  const workflow = options.workflow ?? (named.domain ? `tau-bench-${named.domain}` : 'tau-bench');
  const traces: Trace[] = [];
  const ids = new Set<string>();
  for (const record of records) {
    const report = (path: string, message: string) => issues.push(recordIssue(options.file, record, path, message));
    // A record with none of a run's fields is another kind of file: said once, not as five missing fields.
    if (!RUN_KEYS.some((key) => record.value !== null && typeof record.value === 'object' && key in record.value)) {
      report('', `not a tau-bench run: expected ${RUN_KEYS.join(', ')} (a historical_trajectories file)`);
      continue;
    }
    const parsed = RunSchema.safeParse(record.value, requiredField);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) report(formatPath(issue.path), issue.message);
      continue;
    }
    const trace = traceOfRun(parsed.data, { model, workflow, domain: named.domain }, report);
    if (ids.has(trace.id)) {
      report('', `a second run of task ${parsed.data.task_id}, trial ${parsed.data.trial}; left out`);
      continue;
    }
    ids.add(trace.id);
    traces.push(trace);
  }
  return { traces, issues };
};

function traceOfRun(run: Run, on: { model: string; workflow: string; domain: string | undefined }, report: (path: string, message: string) => void): Trace {
  const turns: Turn[] = openAITurns(run.traj, 'traj', failed);
  const { steps, notReplayable } = stepsOf(turns, on.model, report);
  const { task, reward_info: rewardInfo } = run.info;
  return {
    schema: TRACE_SCHEMA_ID,
    id: `${on.model}${on.domain ? `-${on.domain}` : ''}-${run.task_id}-${run.trial}`,
    caseId: `task-${run.task_id}`,
    trial: run.trial,
    workflow: on.workflow,
    agent: { model: on.model },
    // The instruction is the simulated customer's brief: it says what the case is; the agent never saw it.
    input: { message: firstUserContent(turns), ...(task.user_id !== undefined ? { user_id: task.user_id } : {}), ...(task.instruction !== undefined ? { instruction: task.instruction } : {}) },
    steps,
    outcome: outcomeOf(steps, turns, rewardInfo),
    human: { actions: task.actions.map((a) => ({ name: a.name, args: a.kwargs })) },
    metadata: {
      importedFrom: 'tau-bench',
      reward: run.reward,
      rewardInfo,
      ...(rewardInfo === null ? { stoppedAt: 'step limit' } : {}),
      ...(task.outputs !== undefined ? { expectedOutputs: task.outputs } : {}),
      // What ended the episode: `user` (the simulated customer stopped) or the tool whose call did (a transfer, the step limit).
      ...(run.info.source !== undefined ? { endedBy: run.info.source } : {}),
      userSimulatorCostUsd: run.info.user_cost ?? null,
      ...replayability(notReplayable),
    },
  };
}

/**
 * How the run ended. A run the step limit cut off (no reward info) was aborted; one in
 * which the agent handed the customer to a person was escalated; any other ended when
 * the simulated customer did, completed. The reward is a grade of that outcome, not
 * how it ended, and stays in metadata: a run with reward 0 is completed and wrong.
 */
function outcomeOf(steps: readonly Step[], turns: readonly Turn[], rewardInfo: Run['info']['reward_info']): Outcome {
  const output = lastModelText(turns);
  const escalated = steps.some((s) => s.type === 'tool' && s.name === TAU_BENCH_ESCALATION_TOOL && s.error === undefined);
  const status = rewardInfo === null ? 'aborted' : escalated ? 'escalated' : 'completed';
  return { status, ...(output !== undefined ? { output } : {}) };
}
