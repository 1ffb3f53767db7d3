import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, copyExample, ROOT } from './helpers.js';

// The logs are made up (test/fixtures/importers/README.md).
describe('shadowgate import openai | anthropic', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = copyExample());
    cpSync(join(ROOT, 'test', 'fixtures', 'importers'), join(dir, 'logs'), { recursive: true });
  });
  afterEach(() => cleanup());

  it('writes the traces it could read and lists the problems with file, line and path (exit 0)', async () => {
    const result = await cli(dir, 'import', 'openai', 'logs/openai-chat.jsonl', '--out', 'traces/chat.jsonl', '--workflow', 'order-desk');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('2 trace(s) written to traces/chat.jsonl\n');
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^logs\/openai-chat\.jsonl:4: invalid JSON: /),
      'logs/openai-chat.jsonl:5: messages.1.tool_call_id: required',
      'logs/openai-chat.jsonl:6: the record names no model: pass --model',
    ]);
    const traces = readFileSync(join(dir, 'traces', 'chat.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; workflow: string });
    expect(traces.map((t) => [t.id, t.workflow])).toEqual([['conv-a', 'order-desk'], ['chatcmpl-b1', 'order-desk']]);
    expect((await cli(dir, 'validate', 'traces/chat.jsonl')).code).toBe(0);
  });

  it('exits 2 with --strict, naming every problem, and leaves the trace file as it was', async () => {
    writeFileSync(join(dir, 'traces', 'a.jsonl'), 'the old traces\n');
    const result = await cli(dir, 'import', 'anthropic', 'logs/anthropic-messages.json', '--out', 'traces/a.jsonl', '--strict');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('logs/anthropic-messages.json: 2.messages.1.content.0.id: required');
    expect(result.stdout).toBe('');
    expect(readFileSync(join(dir, 'traces', 'a.jsonl'), 'utf8')).toBe('the old traces\n');
  });

  it('names the tools a --tools catalog does not list', async () => {
    const result = await cli(dir, 'import', 'anthropic', 'logs/anthropic-messages.json', '--out', 'traces/a.jsonl', '--tools', 'fixtures/refund-triage/tools.yaml');
    expect(result.code).toBe(0);
    // get_order and issue_refund are in the refund-triage catalog; escalate is not (it has escalate_to_human).
    expect(result.stderr.split('\n').filter((l) => l.includes('is not in'))).toEqual([
      'logs/anthropic-messages.json: tool escalate is not in fixtures/refund-triage/tools.yaml: a suite with that catalog counts its calls as writes',
    ]);
  });

  it('exits 2 when nothing could be imported, saying each record is of the other format', async () => {
    const openai = await cli(dir, 'import', 'anthropic', 'logs/openai-chat.jsonl', '--out', 'traces/a.jsonl');
    expect(openai.code).toBe(2);
    expect(openai.stdout).toBe('');
    const lines = openai.stderr.split('\n').filter((l) => l.startsWith('  logs/'));
    // each record with an OpenAI-only field is named as OpenAI's; line 4 is not JSON, and line 6 (plain user and assistant text) fits both formats
    expect(lines.filter((l) => l.includes('belongs to OpenAI Chat Completions, not Anthropic Messages: import the file with `shadowgate import openai`')).map((l) => l.split(':')[1])).toEqual(['1', '2', '3', '5']);
    expect(lines).toContain('  logs/openai-chat.jsonl:6: the record names no model: pass --model');
    expect(openai.stderr).toContain('no trace could be imported from logs/openai-chat.jsonl: is it in the anthropic format?');
    expect(existsSync(join(dir, 'traces', 'a.jsonl'))).toBe(false);

    // the other way round: Anthropic tool_use blocks are not read as OpenAI content (their tool calls lost)
    const anthropic = await cli(dir, 'import', 'openai', 'logs/anthropic-messages.json', '--out', 'traces/o.jsonl');
    expect(anthropic.code).toBe(2);
    expect(anthropic.stderr).toContain('logs/anthropic-messages.json: 0.messages.1.content.1.type: a "tool_use" block belongs to Anthropic Messages, not OpenAI Chat Completions: import the file with `shadowgate import anthropic`');

    writeFileSync(join(dir, 'logs', 'foo.json'), '{"foo":1}\n');
    const foo = await cli(dir, 'import', 'tau-bench', 'logs/foo.json', '--out', 'traces/t.jsonl', '--model', 'gpt-4o');
    expect(foo.code).toBe(2);
    expect(foo.stderr).toContain('logs/foo.json: not a tau-bench run: expected task_id, trial, reward, info, traj');
  });

  it('says so when the file holds no records, and writes an empty trace file (exit 0)', async () => {
    for (const [name, text] of [['empty.jsonl', ''], ['none.json', '[]\n']] as const) {
      writeFileSync(join(dir, 'logs', name), text);
      const result = await cli(dir, 'import', 'openai', `logs/${name}`, '--out', `traces/${name}.jsonl`, '--strict');
      expect(result).toEqual({ code: 0, stdout: `0 traces: the file holds no records (traces/${name}.jsonl written empty)\n`, stderr: '' });
      expect(readFileSync(join(dir, 'traces', `${name}.jsonl`), 'utf8')).toBe('');
    }
  });

  it('exits 2 for a folder or a missing file, naming it', async () => {
    const folder = await cli(dir, 'import', 'openai', 'logs', '--out', 'traces/folder.jsonl');
    expect(folder).toEqual({ code: 2, stdout: '', stderr: 'error: logs is a folder: import reads one file\nhint: name a file in it: shadowgate import openai logs/<file> --out …\n' });
    const missing = await cli(dir, 'import', 'openai', 'logs/nope.jsonl', '--out', 'traces/nope.jsonl');
    expect(missing).toEqual({ code: 2, stdout: '', stderr: 'error: no file logs/nope.jsonl\n' });
  });

  it('imports a log whose records name no model with --model', async () => {
    writeFileSync(join(dir, 'logs', 'bare.jsonl'), `${JSON.stringify([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }])}\n`);
    const result = await cli(dir, 'import', 'openai', 'logs/bare.jsonl', '--out', 'traces/bare.jsonl', '--model', 'gpt-4o', '--strict');
    expect(result).toEqual({ code: 0, stdout: '1 trace(s) written to traces/bare.jsonl\n', stderr: '' });
  });
});
