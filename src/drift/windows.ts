import { UsageError } from '../errors.js';

/** A span of time, `(start, end]` in milliseconds since the epoch: the end belongs to it, the start does not. */
export interface TimeWindow {
  start: number;
  end: number;
}

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/**
 * `7d`, `12h`, `2w` → milliseconds. Pure.
 * @example parseDuration('7d') // 604800000
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([hdw])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms > 0)) throw new UsageError(`not a window length: ${JSON.stringify(text)}`, 'a number and h, d or w: 12h, 7d, 2w');
  return ms;
}

/** An ISO date (`2026-11-01`, taken as UTC midnight) or date-time → milliseconds. Pure. */
export function parseInstant(text: string, what: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? `${text.trim()}T00:00:00Z` : text.trim());
  if (Number.isNaN(ms)) throw new UsageError(`${what}: not a date: ${JSON.stringify(text)}`, 'an ISO date or date-time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z');
  return ms;
}

/** What each window is compared with: the window before it, or one fixed span of time. */
export type Against = { kind: 'previous' } | { kind: 'range'; window: TimeWindow };

/** `previous` or `<from>..<to>` (dates or date-times; the span is `(from, to]`). Pure. */
export function parseAgainst(text: string): Against {
  if (text === 'previous') return { kind: 'previous' };
  const parts = text.split('..');
  if (parts.length !== 2) throw new UsageError(`--against ${text}: expected "previous" or <from>..<to>`, 'for example --against 2026-10-01..2026-10-15');
  const window = { start: parseInstant(parts[0]!, '--against'), end: parseInstant(parts[1]!, '--against') };
  if (window.end <= window.start) throw new UsageError(`--against ${text}: the range ends before it starts`);
  return { kind: 'range', window };
}

/**
 * `count` consecutive windows of `size` ms, oldest first, the last ending at `until`
 * (inclusive). Pure.
 */
export function planWindows(until: number, size: number, count: number): TimeWindow[] {
  return Array.from({ length: count }, (_, i) => {
    const end = until - (count - 1 - i) * size;
    return { start: end - size, end };
  });
}

/**
 * Which of the planned windows an instant falls in (index, oldest first), or -1
 * when before the first or after the last. O(1): the windows are consecutive. Pure.
 */
export function windowIndex(windows: readonly TimeWindow[], at: number): number {
  const last = windows[windows.length - 1];
  if (!last || at > last.end) return -1;
  const size = last.end - last.start;
  // (start, end]: an instant on a boundary belongs to the earlier window, which floor() gives.
  const index = windows.length - 1 - Math.floor((last.end - at) / size);
  return index >= 0 && inWindow(windows[index]!, at) ? index : -1;
}

export function inWindow(window: TimeWindow, at: number): boolean {
  return at > window.start && at <= window.end;
}
