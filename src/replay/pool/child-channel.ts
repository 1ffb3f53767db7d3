import v8 from 'node:v8';

// Taken before candidate code can replace `Function.prototype.call`.
const apply = Reflect.apply;

type Send = (message: unknown, callback?: (error: Error | null) => void) => boolean;

/**
 * Takes the child's IPC channel for the runtime, before any candidate code is imported.
 * Node's `process.send` calls `process._send`, which candidate code could replace (and so
 * drop the runtime's reports of its blocked attempts), or call itself (and so forge the
 * runtime's messages, or send Node's internal ones). So:
 * - the runtime keeps Node's own `_send` in a closure and calls it on a frozen stand-in for
 *   `process`, so that nothing later set on `process` changes what it does;
 * - the functions that send path uses and that candidate code can reach (the channel's
 *   write functions, `v8.Serializer`, `Buffer`'s) are pinned: replacing them has no effect;
 * - `process.send` and `process._send` become refusals that cannot be replaced or removed: a
 *   call is reported through `refused` and sends nothing;
 * - the raw channel handle is no longer reachable from `process`; `process.channel` stays
 *   (ref/unref), and setting it does nothing.
 * What this cannot stop (a candidate writing raw bytes to the channel's file descriptor) the
 * parent refuses, message by message (see check-message).
 */
export function sealChannel(refused: (what: string) => void): { send: Send; unref: () => void } {
  const proc = process as unknown as Record<string | symbol, unknown>;
  const rawSend = proc._send;
  const key = Object.getOwnPropertySymbols(process).find((s) => s.description === 'kChannelHandle');
  const pipe = key ? (proc[key] as Record<string, unknown> | null) : null;
  const control = process.channel;
  if (typeof rawSend !== 'function' || !pipe || !control) throw new Error("the candidate's process was started without an IPC channel");

  // What the send path reaches through objects candidate code can also reach.
  for (const name of ['writeBuffer', 'writeUtf8String', 'writev', 'writeLatin1String', 'readStart', 'onread']) pin(pipe, name, pipe[name]);
  for (const name of ['allocUnsafe', 'concat']) pin(Buffer as unknown as Record<string, unknown>, name, (Buffer as unknown as Record<string, unknown>)[name]);
  for (const name of ['writeUInt32BE', 'readUInt32BE']) pin(Buffer.prototype as unknown as Record<string, unknown>, name, (Buffer.prototype as unknown as Record<string, unknown>)[name]);
  // Node's channel serializer extends the Default ones and calls their methods (`_writeHostObject` for every typed array).
  for (const proto of [v8.Serializer.prototype, v8.Deserializer.prototype, v8.DefaultSerializer.prototype, v8.DefaultDeserializer.prototype]) Object.freeze(proto);

  const self = Object.freeze({ connected: true, channel: pipe, _handleQueue: null, emit: () => false });
  const send: Send = (message, callback) => apply(rawSend as (...a: unknown[]) => boolean, self, [message, undefined, { swallowErrors: false }, callback]);

  const refuse = function (this: unknown) {
    refused('process.send');
    return false;
  };
  for (const name of ['send', '_send']) Object.defineProperty(process, name, { value: refuse, writable: false, configurable: false, enumerable: false });
  if (key) {
    // Node sets it to null on disconnect: a setter that takes that, and a getter that gives nothing away.
    Object.defineProperty(process, key, { get: () => undefined, set: () => {}, configurable: false, enumerable: false });
  }
  // Node drops every message from the parent while `process.channel` is null: it stays what it was (Node's own disconnect needs it no more).
  Object.defineProperty(process, 'channel', { get: () => control, set: () => {}, configurable: false, enumerable: true });
  const unref = (control as { unref: () => void }).unref.bind(control);
  return { send, unref };
}

/** Makes `target[name]` the given value for good: own, read-only, not removable. */
function pin(target: Record<string, unknown>, name: string, value: unknown): void {
  if (value === undefined) return;
  Object.defineProperty(target, name, { value, writable: false, configurable: false, enumerable: false });
}
