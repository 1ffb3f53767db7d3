import { DECIDED_STATUSES } from '../replay/types.js';
import type { ProgressEvent } from '../run/run-suite.js';
import type { CliIo } from './io.js';

/**
 * A progress bar on an interactive terminal; plain lines (every tenth of the
 * run) when the output is not a TTY or `CI` is set, so CI logs stay readable.
 */
export function createProgressReporter(io: CliIo, label: string) {
  const fancy = Boolean(io.stderr.isTTY) && !io.env.CI;
  let lastDecile = -1;
  let lastDraw = 0;
  let disagree = 0;
  let failed = 0;
  return {
    update(event: ProgressEvent): void {
      if (event.result?.agree === false) disagree++;
      if (event.result && event.result.status !== 'unpaired' && !DECIDED_STATUSES.includes(event.result.status)) failed++;
      const total = Math.max(event.total, event.done, 1);
      const ratio = event.done / total;
      if (fancy) {
        const t = Date.now();
        if (event.done !== total && t - lastDraw < 80) return;
        lastDraw = t;
        const width = 24;
        const filled = Math.round(ratio * width);
        io.stderr.write(
          `\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${event.done}/${total}  disagree ${disagree}  no outcome ${failed} `,
        );
        return;
      }
      const decile = Math.floor(ratio * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        io.stderr.write(`${label}: ${event.done}/${total} traces (${Math.round(ratio * 100)}%)\n`);
      }
    },
    done(): void {
      if (fancy) io.stderr.write('\n');
    },
  };
}
