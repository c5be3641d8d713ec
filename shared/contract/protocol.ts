// The wire protocol shared by every transport (Electron IPC and WebSocket carry the same JSON text), in the
// style of VS Code's IPC channels: call(command, arg) with its own cancellation message, listen(event, arg)
// for streams, errors as plain data. Both sides parse with these schemas; nothing else is trusted.
import { z } from 'zod';
import { ApiErrorShape, LIMITS } from './common';

export { IPC_CHANNEL, WS_PATH, BRIDGE_KEY, type PreloadBridge } from './channel';
export const PROTOCOL_VERSION = 1;

const MsgId = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const Name = z.string().min(1).max(100);

/** Client → server. `arg` is validated later, against the command's own schema. */
export const ClientMessage = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('call'), id: MsgId, command: Name, arg: z.unknown() }),
  z.strictObject({ t: z.literal('cancel'), id: MsgId }),
  z.strictObject({ t: z.literal('listen'), id: MsgId, event: Name, arg: z.unknown() }),
  z.strictObject({ t: z.literal('unlisten'), id: MsgId }),
  // A page starts afresh (first message of every client): whatever an earlier page of the same window left
  // running on this connection (a reload keeps the IPC connection) is cancelled, and ids start over.
  z.strictObject({ t: z.literal('reset') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Server → client. `id` echoes the call or listen; `hello` opens a connection; `fatal` answers a message with no usable id. */
export const ServerMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), protocol: z.literal(PROTOCOL_VERSION), maxMessageBytes: z.int() }),
  z.object({ t: z.literal('ok'), id: MsgId, data: z.unknown() }),
  z.object({ t: z.literal('err'), id: MsgId, error: ApiErrorShape }),
  z.object({ t: z.literal('event'), id: MsgId, data: z.unknown() }),
  z.object({ t: z.literal('fatal'), error: ApiErrorShape }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

export const MAX_MESSAGE_BYTES = LIMITS.maxMessageBytes;
