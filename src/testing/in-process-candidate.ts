import { tmpdir } from 'node:os';
import type { ModuleCandidate, ModuleContext, ModuleExecutor } from '../replay/module-candidate.js';
import { errorData } from '../replay/supervise.js';

/**
 * For the library's own unit tests of the harness side (mocks, guard, budgets): runs a
 * candidate function in this process, with no sandbox, its tools and requests answered by the
 * same host as the pool's children. Runs never use it: candidate code runs in the pool.
 */
export function inProcess(run: ModuleCandidate): ModuleExecutor {
  return {
    async run(trace, input, host, signal) {
      const tools = new Proxy({} as ModuleContext['tools'], {
        get: (_, name) => (typeof name === 'string' ? (args: Record<string, unknown>) => host.callTool(name, args ?? {}) : undefined),
      });
      const llm = {
        get openai(): never {
          throw new Error('ctx.llm is not available in an in-process test');
        },
        get anthropic(): never {
          throw new Error('ctx.llm is not available in an in-process test');
        },
      };
      try {
        return { kind: 'done', value: await run(structuredClone(input), { tools, llm, trace, signal, scratchDir: tmpdir(), log: () => {} }) };
      } catch (error) {
        return { kind: 'threw', error: errorData(error, 'CANDIDATE_THREW') };
      }
    },
  };
}
