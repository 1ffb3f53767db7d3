import type { Readable } from 'node:stream';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { bridgeStdio } from '../replay/command/mcp.js';
import type { CliIo } from './io.js';

/**
 * `shadowgate mcp-stdio`: the gateway's MCP tool server on stdin/stdout, for an agent of a
 * `command` candidate that spawns its tool servers (`command: shadowgate, args: [mcp-stdio]`).
 * Every message goes to the gateway at $SHADOWGATE_MCP_URL, which answers it from the trace
 * in flight; it runs until stdin ends.
 */
export function registerMcpStdioCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('mcp-stdio')
    .description("serve the shadowgate gateway's MCP tools on stdin/stdout, for an agent (a command candidate) that spawns its MCP servers")
    .addOption(new Option('--url <url>', "the gateway's MCP endpoint (set in the agent's environment by shadowgate)").env('SHADOWGATE_MCP_URL'))
    .addHelpText(
      'after',
      [
        '',
        'Every MCP message is forwarded to the gateway, which answers tools/list from',
        "the suite's catalog and tools/call from the trace in flight. An MCP session",
        'lasts one trace: when the gateway ends it, the bridge opens the next one with',
        "the agent's own initialize. See docs/command-candidates.md.",
      ].join('\n'),
    )
    .action(async (opts: { url?: string }) => {
      if (!opts.url) throw new UsageError('no gateway to forward to: SHADOWGATE_MCP_URL is not set', 'run it as a tool server of an agent that shadowgate started (a command candidate), or pass --url');
      let url: URL;
      try {
        url = new URL(opts.url);
      } catch {
        throw new UsageError(`--url ${opts.url} is not a URL`, 'e.g. http://127.0.0.1:4000/mcp');
      }
      if (!io.stdin) throw new UsageError('mcp-stdio needs a standard input', 'run it as a tool server that an agent spawns');
      // JSON-RPC lines, ASCII only (other characters as \u escapes, which JSON reads back the same), so that the
      // terminal guard on stdout has nothing to change in them.
      await bridgeStdio(url, io.stdin as Readable, { write: (text) => io.stdout.write(asciiJson(text)) });
      setExit(0);
    });
}

function asciiJson(text: string): string {
  return text.replace(/[^\n\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
