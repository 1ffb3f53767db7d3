import { z } from 'zod';
import type { ModelToolCall } from '../providers/types.js';
import { TRACE_SCHEMA_ID, type Outcome, type Step, type Trace, type Usage } from '../trace/schema.js';
import { firstUserContent, lastModelText, replayability, resultContent, stepsOf, type Turn } from './conversation.js';
import { readRecords, requiredField } from './records.js';
import type { Importer } from './types.js';

/** The tool through which a tau2 agent hands the customer to a person (a GENERIC tool in every domain). */
export const TAU2_ESCALATION_TOOL = 'transfer_to_human_agents';

/**
 * tau2's data model (`tau2/data_model/simulation.py`, `message.py`, `tasks.py`), as loose
 * as tau2 itself: every field its pydantic models make optional or nullable is so here,
 * and fields we do not read are let through. Each simulation and each message is checked
 * on its own, so that one bad message is a located problem and the rest still import.
 */
const Nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

const ActionSchema = z.looseObject({
  action_id: Nullish(z.string()),
  // tau2's default requestor is the assistant
  requestor: Nullish(z.enum(['user', 'assistant'])),
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()),
  compare_args: Nullish(z.array(z.string())),
});

const TaskSchema = z.looseObject({
  id: z.union([z.string().min(1), z.number()]),
  evaluation_criteria: Nullish(z.looseObject({ actions: Nullish(z.array(z.unknown())) })),
});

const InfoSchema = z.looseObject({
  agent_info: Nullish(z.looseObject({ llm: Nullish(z.string()), implementation: Nullish(z.string()) })),
  user_info: Nullish(z.looseObject({ llm: Nullish(z.string()), implementation: Nullish(z.string()) })),
  environment_info: Nullish(z.looseObject({ domain_name: Nullish(z.string()) })),
  git_commit: Nullish(z.string()),
  num_trials: Nullish(z.number()),
  max_steps: Nullish(z.number()),
  max_errors: Nullish(z.number()),
});

const ResultsSchema = z.looseObject({
  timestamp: Nullish(z.string()),
  info: InfoSchema,
  tasks: z.array(z.unknown()),
  simulations: z.array(z.unknown()),
});
const RESULTS_KEYS = ['info', 'tasks', 'simulations'];

const SimulationSchema = z.looseObject({
  id: z.string().min(1),
  task_id: z.union([z.string().min(1), z.number()]),
  timestamp: Nullish(z.string()),
  start_time: Nullish(z.string()),
  end_time: Nullish(z.string()),
  duration: Nullish(z.number()),
  // tau2 has user_stop, agent_stop, max_steps, too_many_errors; later versions add others, kept as they come
  termination_reason: z.string().min(1),
  agent_cost: Nullish(z.number()),
  user_cost: Nullish(z.number()),
  reward_info: Nullish(z.looseObject({ reward: z.number() })),
  messages: z.array(z.unknown()),
  trial: Nullish(z.number().int().nonnegative()),
  seed: Nullish(z.number()),
});
type Simulation = z.infer<typeof SimulationSchema>;

const ToolCallSchema = z.looseObject({
  id: Nullish(z.string()),
  name: z.string().min(1),
  // a dict in tau2; a JSON string is read too (as OpenAI sends it), anything else recorded as {}
  arguments: z.union([z.record(z.string(), z.unknown()), z.string()]),
  requestor: Nullish(z.enum(['user', 'assistant'])),
});

const ToolMessageSchema = z.looseObject({
  role: z.literal('tool'),
  id: z.string(),
  content: Nullish(z.string()),
  requestor: Nullish(z.enum(['user', 'assistant'])),
  error: Nullish(z.boolean()),
  timestamp: Nullish(z.string()),
});

const UsageSchema = z.looseObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  prompt_tokens_details: Nullish(z.looseObject({ cached_tokens: Nullish(z.number().int().nonnegative()) })),
});

const ParticipantSchema = z.looseObject({
  role: z.enum(['assistant', 'user']),
  content: Nullish(z.string()),
  tool_calls: Nullish(z.array(ToolCallSchema)),
  cost: Nullish(z.number().nonnegative()),
  usage: z.unknown().optional(),
  timestamp: Nullish(z.string()),
});

/** tau2's MultiToolMessage: the answers to several calls of one message. */
const MultiToolSchema = z.looseObject({ role: z.literal('tool'), tool_messages: z.array(ToolMessageSchema) });

const MessageSchema = z.union([
  z.looseObject({ role: z.literal('system'), content: Nullish(z.string()) }),
  ParticipantSchema,
  MultiToolSchema,
  ToolMessageSchema,
]);
type ToolMessage = z.infer<typeof ToolMessageSchema>;

/** A JSON path as tau2's files read: `simulations[3].messages[7].tool_calls[0]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

/**
 * A domain name and its policy: `airline_tighter_policy` is the airline domain (its tools,
 * its tasks) under another policy text, `telecom-workflow` the telecom domain under a
 * workflow policy. The domain is the name up to the first `_` or `-`; the whole name is
 * the policy. Runs of one domain under two policies thus share a workflow and a catalog
 * and compare, case by case.
 */
export function tau2Domain(name: string): { domain: string; policy: string } {
  return { domain: name.split(/[_-]/)[0] || name, policy: name };
}

/** litellm's model names carry the provider (`xai/grok-3`, `openai/gpt-4.1`): the pricing table knows the model alone. */
export const tau2Model = (llm: string) => llm.replace(/^[^/]*\//, '');

/** Ended by a limit or an error (`max_steps`, `too_many_errors`, an `…error…` of later versions): the run did not finish. */
const abortedBy = (reason: string) => reason === 'max_steps' || /error/i.test(reason);

/**
 * tau2-bench results (`tau2 run … --save-to results.json`): one trace per simulation,
 * the task id as `caseId`, the trial as `trial`, the agent's messages as model steps with
 * their token usage, its tool calls as tool steps (failed where tau2 says `error: true`),
 * the task's expected assistant actions as `human.actions`. Tool calls of the user
 * simulator (telecom's dual control: `requestor: user`) are the customer acting on their
 * own device: kept in `metadata.userToolCalls`, never as the agent's steps or effects.
 * The model comes from `--model`, else `info.agent_info.llm`. Pure.
 */
export const importTau2Traces: Importer = (text, options) => {
  const { records, issues } = readRecords(text, options.file, () => false);
  const report = (path: string, message: string) => issues.push({ file: options.file, ...(path ? { path } : {}), message });
  const traces: Trace[] = [];
  if (records.length === 0) {
    if (issues.length === 0) report('', `not a tau2 results file: the file is empty (expected one JSON object with ${RESULTS_KEYS.join(', ')})`);
    return { traces, issues };
  }
  const value = records[0]!.value;
  if (records.length > 1 || value === null || typeof value !== 'object' || Array.isArray(value) || !RESULTS_KEYS.some((k) => k in value)) {
    report('', `not a tau2 results file: expected one JSON object with ${RESULTS_KEYS.join(', ')} (what \`tau2 run\` saves)`);
    return { traces, issues };
  }
  const parsed = ResultsSchema.safeParse(value, requiredField);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report(jsonPath(issue.path), issue.message);
    return { traces, issues };
  }
  const results = parsed.data;
  const llm = options.model ?? results.info.agent_info?.llm ?? undefined;
  if (!llm) {
    report('info.agent_info.llm', 'no agent model: the file does not name one; pass --model');
    return { traces, issues };
  }
  const model = tau2Model(llm);
  const domainName = results.info.environment_info?.domain_name ?? undefined;
  const { domain, policy } = domainName ? tau2Domain(domainName) : { domain: undefined, policy: undefined };
  const workflow = options.workflow ?? (domain ? `tau2-${domain}` : 'tau2');
  const tasks = tasksOf(results.tasks, report);
  const ids = new Set<string>();
  results.simulations.forEach((raw, i) => {
    const at = `simulations[${i}]`;
    const sim = SimulationSchema.safeParse(raw, requiredField);
    if (!sim.success) {
      for (const issue of sim.error.issues) report(jsonPath([`simulations`, i, ...issue.path]), `${issue.message}; the simulation is left out`);
      return;
    }
    const taskId = String(sim.data.task_id);
    const task = tasks.get(taskId);
    if (!task) report(`${at}.task_id`, `task ${taskId} is not among the file's tasks: imported without expected actions`);
    // A simulation's problems in the order of their paths (some are found only once all its messages are read).
    const own: { path: string; message: string }[] = [];
    const trace = traceOf(sim.data, at, { llm, model, workflow, domainName, policy, task, timestamp: results.timestamp ?? undefined, userLlm: results.info.user_info?.llm ?? undefined }, (path, message) => own.push({ path, message }));
    for (const { path, message } of own.sort((a, b) => comparePaths(a.path, b.path))) report(path, message);
    if (!trace) return;
    if (ids.has(trace.id)) {
      report(at, `a second simulation of task ${taskId}, trial ${sim.data.trial ?? 'none'}; left out`);
      return;
    }
    ids.add(trace.id);
    traces.push(trace);
  });
  return { traces, issues };
};

interface Task {
  /** The expected agent actions; undefined when the task has no evaluation criteria with actions. */
  actions: { name: string; args: Record<string, unknown> }[] | undefined;
}

function tasksOf(list: readonly unknown[], report: (path: string, message: string) => void): Map<string, Task> {
  const tasks = new Map<string, Task>();
  list.forEach((raw, i) => {
    const task = TaskSchema.safeParse(raw, requiredField);
    if (!task.success) {
      for (const issue of task.error.issues) report(jsonPath(['tasks', i, ...issue.path]), issue.message);
      return;
    }
    let actions: Task['actions'] = task.data.evaluation_criteria?.actions ? [] : undefined;
    let unreadable = false;
    (task.data.evaluation_criteria?.actions ?? []).forEach((rawAction, j) => {
      const action = ActionSchema.safeParse(rawAction, requiredField);
      if (!action.success) {
        for (const issue of action.error.issues) report(jsonPath(['tasks', i, 'evaluation_criteria', 'actions', j, ...issue.path]), issue.message);
        unreadable = true;
        return;
      }
      // The user's own actions (telecom: toggling data on the phone) are not the agent's to take.
      if (action.data.requestor !== 'user') actions!.push({ name: action.data.name, args: action.data.arguments });
    });
    // Part of the expected actions is no reference: the task's runs get none (effects agreement n/a), not a shorter list.
    if (unreadable) actions = undefined;
    tasks.set(String(task.data.id), { actions });
  });
  return tasks;
}

interface Context {
  llm: string;
  model: string;
  workflow: string;
  domainName: string | undefined;
  policy: string | undefined;
  task: Task | undefined;
  timestamp: string | undefined;
  userLlm: string | undefined;
}

/** A tool call of the user simulator and what its device answered. */
interface UserToolCall {
  message: number;
  id: string;
  name: string;
  args: unknown;
  result?: unknown;
  error?: unknown;
}

/**
 * The trace of one simulation, or undefined when a message cannot be read: a trace without
 * one of the agent's messages would misstate what the agent did (a write left out reads as
 * a write not made), so the simulation is left out whole and each unreadable message named.
 */
function traceOf(sim: Simulation, at: string, on: Context, report: (path: string, message: string) => void): Trace | undefined {
  // A message that contradicts the conversation (an answer to no call, a call left unanswered
  // while the conversation went on, a call of the agent's said to be the user's): the trace could
  // not say truly what the agent did, so the simulation is left out.
  let contradicted = false;
  const leaveOut = (path: string, message: string) => {
    contradicted = true;
    report(path, `${message}; the simulation is left out`);
  };
  const turns: Turn[] = [];
  const userCalls: UserToolCall[] = [];
  // Agent calls not yet answered, in order: tau2's call id may be empty, and then an answer goes to the first open call with it.
  const open: { sourceId: string; call: ModelToolCall }[] = [];
  // Per model turn: tau2's fixed messages (its greeting: no usage, cost 0) are no model call and cost what it recorded.
  const free: boolean[] = [];

  const toolResult = (m: ToolMessage, path: string) => {
    if (m.requestor === 'user') {
      const call = [...userCalls].reverse().find((c) => c.id === m.id && c.result === undefined && c.error === undefined);
      if (!call) leaveOut(path, `an answer for the user's tool call ${m.id || '(no id)'}, which no earlier user message made or which was answered already`);
      else if (m.error === true) call.error = resultContent(m.content ?? null);
      else call.result = resultContent(m.content ?? null);
      return;
    }
    const k = open.findIndex((o) => o.sourceId === m.id);
    if (k === -1) {
      leaveOut(path, `an answer for the agent's tool call ${m.id || '(no id)'}, which no earlier assistant message made or which was answered already`);
      return;
    }
    const entry = open.splice(k, 1)[0]!;
    turns.push({ kind: 'result', toolCallId: entry.call.id, content: resultContent(m.content ?? null), failed: m.error === true, path });
  };
  // tau2 answers every call before the conversation goes on; only a run cut short leaves its last calls unanswered.
  const allAnswered = (path: string) => {
    for (const { sourceId, call } of open.splice(0)) leaveOut(path, `the agent's tool call ${sourceId || call.id} (${call.name}) was never answered, yet the conversation went on`);
  };

  const messages: z.infer<typeof MessageSchema>[] = [];
  sim.messages.forEach((raw, j) => {
    const path = `${at}.messages[${j}]`;
    const parsed = MessageSchema.safeParse(raw, requiredField);
    if (parsed.success) {
      messages.push(parsed.data);
      return;
    }
    // The union's issues name the branches; the role says which one was meant.
    const role = (raw as { role?: unknown } | null)?.role;
    const branch = role === 'system' ? 0 : role === 'assistant' || role === 'user' ? 1 : role === 'tool' ? ((raw as object) && 'tool_messages' in (raw as object) ? 2 : 3) : -1;
    const schema = [MessageSchema.options[0], ParticipantSchema, MultiToolSchema, ToolMessageSchema][branch];
    const own = schema?.safeParse(raw, requiredField);
    if (own && !own.success) for (const issue of own.error.issues) report(jsonPath([...pathKeys(path), ...issue.path]), `${issue.message}; the simulation is left out`);
    else report(path, `not a tau2 message: role ${JSON.stringify(role)} (expected system, user, assistant or tool); the simulation is left out`);
  });
  if (messages.length < sim.messages.length) return undefined;

  messages.forEach((m, j) => {
    const path = `${at}.messages[${j}]`;
    if (m.role === 'system') {
      turns.push({ kind: 'input', role: 'system', content: m.content ?? null, path });
      return;
    }
    if (m.role === 'tool') {
      if ('tool_messages' in m) (m as z.infer<typeof MultiToolSchema>).tool_messages.forEach((t, k) => toolResult(t, `${path}.tool_messages[${k}]`));
      else toolResult(m as ToolMessage, path);
      return;
    }
    const message = m as z.infer<typeof ParticipantSchema>;
    allAnswered(path);
    const calls = (message.tool_calls ?? []).map((c, k) => ({ c, k, args: argumentsOf(c.arguments) }));
    if (message.role === 'user') {
      for (const { c, k } of calls) {
        if (c.requestor === 'assistant') leaveOut(`${path}.tool_calls[${k}].requestor`, "a user message with a tool call whose requestor is the assistant: whose call it was is unknown");
        userCalls.push({ message: j, id: c.id ?? '', name: c.name, args: c.arguments });
      }
      if (message.content !== null && message.content !== undefined) turns.push({ kind: 'input', role: 'user', content: message.content, path });
      return;
    }
    const toolCalls: ModelToolCall[] = [];
    for (const { c, k, args } of calls) {
      if (c.requestor === 'user') {
        leaveOut(`${path}.tool_calls[${k}].requestor`, "an assistant message with a tool call whose requestor is the user: whose call it was is unknown");
        continue;
      }
      // tau2's call id defaults to "": such a call is named by where it stands, so that its answer finds it.
      const id = c.id || `${j}.${k}`;
      const call: ModelToolCall = { id, name: c.name, args: args ?? {}, ...(args === undefined ? { invalidArguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) } : {}) };
      open.push({ sourceId: c.id ?? '', call });
      toolCalls.push(call);
    }
    const usage = usageOf(message.usage, `${path}.usage`, report);
    turns.push({ kind: 'model', model: on.model, ...(message.content ? { text: message.content } : {}), toolCalls, ...(usage ? { usage } : {}), path });
    free.push(!usage && message.cost === 0);
  });

  if (contradicted) return undefined;
  const { steps, notReplayable } = stepsOf(turns, on.model, report);
  // stepsOf makes one llm step per model turn, in order.
  let n = 0;
  const priced = steps.map((s): Step => (s.type === 'llm' && free[n++] ? { ...s, costUsd: 0 } : s));

  const taskId = String(sim.task_id);
  const trial = sim.trial ?? undefined;
  const reason = sim.termination_reason;
  const rewardInfo = sim.reward_info ?? null;
  return {
    schema: TRACE_SCHEMA_ID,
    id: `${on.domainName ?? 'tau2'}-${on.model}-${taskId}-${trial ?? sim.id}`,
    caseId: taskId,
    ...(trial !== undefined ? { trial } : {}),
    workflow: on.workflow,
    ...(sim.start_time || sim.timestamp ? { recordedAt: (sim.start_time ?? sim.timestamp)! } : {}),
    agent: { model: on.model, ...(on.policy ? { promptVersion: on.policy } : {}) },
    input: { message: firstUserContent(turns) },
    steps: priced,
    outcome: outcomeOf(priced, turns, reason),
    ...(on.task?.actions ? { human: { actions: on.task.actions } } : {}),
    metadata: {
      importedFrom: 'tau2',
      simulationId: sim.id,
      ...(on.domainName ? { domain: on.domainName } : {}),
      ...(on.policy ? { policy: on.policy } : {}),
      agentLlm: on.llm,
      ...(on.userLlm ? { userLlm: on.userLlm } : {}),
      terminationReason: reason,
      reward: rewardInfo?.reward ?? null,
      rewardInfo,
      // tau2's own figures for the run (litellm's prices): kept beside ours, never used as the steps' cost
      agentCostUsd: sim.agent_cost ?? null,
      userSimulatorCostUsd: sim.user_cost ?? null,
      ...(sim.duration !== undefined && sim.duration !== null ? { durationS: sim.duration } : {}),
      ...(sim.seed !== undefined && sim.seed !== null ? { seed: sim.seed } : {}),
      ...(userCalls.length ? { userToolCalls: userCalls } : {}),
      ...replayability(notReplayable),
    },
  };
}

/** Paths in order: `messages[9]` before `messages[10]`, a message before its own fields, names of one level by name. */
function comparePaths(a: string, b: string): number {
  const [x, y] = [pathKeys(a), pathKeys(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i]!, y[i]!];
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    return String(p) < String(q) ? -1 : 1;
  }
  return x.length - y.length;
}

/** `a.b[3].c` back to keys, to extend a path with a zod issue's own. */
function pathKeys(path: string): PropertyKey[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

/** A call's arguments: tau2's dict, or a string holding a JSON object; undefined for anything else. */
function argumentsOf(args: Record<string, unknown> | string): Record<string, unknown> | undefined {
  if (typeof args !== 'string') return args;
  try {
    const value: unknown = JSON.parse(args);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** litellm's usage (`prompt_tokens`, `completion_tokens`, cached tokens in `prompt_tokens_details`); undefined where there is none. */
function usageOf(raw: unknown, path: string, report: (path: string, message: string) => void): Usage | undefined {
  if (raw === undefined || raw === null) return undefined;
  const usage = UsageSchema.safeParse(raw, requiredField);
  if (!usage.success) {
    for (const issue of usage.error.issues) report(jsonPath([...pathKeys(path), ...issue.path]), `${issue.message}: usage left out`);
    return undefined;
  }
  const cached = usage.data.prompt_tokens_details?.cached_tokens;
  return { inputTokens: usage.data.prompt_tokens, outputTokens: usage.data.completion_tokens, ...(cached ? { cachedInputTokens: Math.min(cached, usage.data.prompt_tokens) } : {}) };
}

/**
 * How the run ended: a step or error limit (or a later version's error reason) aborted it;
 * an agent that handed the customer to a person (the transfer tool, answered) escalated
 * it, as did a reason that names a transfer; else it completed. The reward grades the
 * outcome and stays in metadata: a completed run with reward 0 is completed and wrong.
 */
function outcomeOf(steps: readonly Step[], turns: readonly Turn[], reason: string): Outcome {
  const output = lastModelText(turns);
  const escalated = /transfer/i.test(reason) || steps.some((s) => s.type === 'tool' && s.name === TAU2_ESCALATION_TOOL && s.error === undefined);
  const status = abortedBy(reason) ? 'aborted' : escalated ? 'escalated' : 'completed';
  return { status, ...(output !== undefined ? { output } : {}) };
}
