// The candidate: your agent, as a shadowgate `module` candidate. shadowgate calls
// run(input, ctx) once per recorded trace, in a sandboxed child process.
//
// input      the trace's `input`, as recorded.
// ctx.tools  every tool of the catalog, mocked: `await ctx.tools.get_user({ user_id })`
//   - resolves to the recorded result of the same call (same tool, same arguments), or, for
//     a write the trace did not record, the catalog's `ack`;
//   - rejects with a ToolCallError (err.code === 'SG_TOOL_FAILED', err.tool, err.recordedError)
//     when the recorded call failed, or the arguments do not fit the tool's schema, or a
//     policy refuses the call. Your code may catch it, as it would a real failure;
//   - rejects with a stop (err.code 'SG_OFF_TRACE', 'SG_BUDGET_EXCEEDED', 'SG_LOOP_DETECTED')
//     when the call has no recording, ack or stub, or a budget ran out. The trace ends there
//     (diverged, budget_exceeded) whatever your code does next: let it propagate.
// ctx.llm    OpenAI and Anthropic SDK clients whose calls are cached, budgeted and recorded.
// ctx.log    a logger; console output also works.
//
// run resolves to the outcome { decision, status?, output? }: `decision` is compared with
// the trace's human.decision on the fields the suite names (compare.decision.fields), and
// the writes it made through ctx.tools with human.actions.

export async function run(input, ctx) {
  const user = await ctx.tools.get_user({ user_id: input.user_id });
  // Admin roles are the resource owner's call; inactive or unapproved users get nothing.
  if (!user.active || !user.manager_approved || input.role === 'admin') {
    return { decision: { action: 'deny' }, status: 'completed' };
  }
  await ctx.tools.grant_access({ user_id: input.user_id, resource: input.resource, role: input.role });
  return { decision: { action: 'grant', role: input.role }, status: 'completed' };
}
