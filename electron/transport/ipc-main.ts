// Main-process side of the Electron IPC transport, in plain Node: main.ts hands it Electron's ipcMain; the
// tests hand it a stand-in with the same few members. One RpcSession per renderer (webContents); every
// message is checked for its sender frame's origin before it is even parsed.
import { ERROR_CODES, type ApiErrorShape } from '../../shared/contract/common';
import type { ServiceBackend } from '../../shared/contract/handlers';
import { IPC_CHANNEL } from '../../shared/contract/protocol';
import { createRpcSession, type RpcSession } from './rpc-session';

/** The members of Electron's WebContents this adapter uses. */
export interface IpcSenderLike {
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
}
/** The members of Electron's WebFrameMain this adapter uses. */
export interface IpcFrameLike {
  readonly url: string;
  readonly parent: unknown;
}
/** The members of Electron's IpcMainEvent this adapter uses. */
export interface IpcMainEventLike {
  readonly sender: IpcSenderLike;
  readonly senderFrame: IpcFrameLike | null;
}
export interface IpcMainLike {
  on(channel: string, listener: (event: IpcMainEventLike, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcMainEventLike, ...args: unknown[]) => void): unknown;
}

export interface IpcServeOptions {
  ipcMain: IpcMainLike;
  backend: ServiceBackend;
  /** The origin the app's own pages have (e.g. "aimkp://app"); anything else is a foreign sender. */
  trustedOrigin: string;
  channel?: string;
  maxMessageBytes?: number;
  onRefused?(error: ApiErrorShape, senderUrl: string): void;
}

/** Origin of a URL ("aimkp://app/index.html" → "aimkp://app"); null when the URL cannot be parsed. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    // Custom schemes give the opaque origin "null"; build scheme://host ourselves.
    return u.origin !== 'null' ? u.origin : `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
}

/**
 * True when the message comes from the app's own top-level frame: a page of the app protocol, not an
 * iframe (the app has none), not a page that navigated elsewhere (navigation is denied anyway).
 */
export function isTrustedSender(event: IpcMainEventLike, trustedOrigin: string): boolean {
  const frame = event.senderFrame;
  if (frame === null || frame === undefined) return false;
  if (frame.parent !== null && frame.parent !== undefined) return false;
  return originOf(frame.url) === trustedOrigin;
}

export interface IpcServer {
  /** Ends every session and stops listening. */
  close(): void;
  readonly sessions: ReadonlyMap<number, RpcSession>;
}

export function serveIpc(opts: IpcServeOptions): IpcServer {
  const channel = opts.channel ?? IPC_CHANNEL;
  const sessions = new Map<number, RpcSession>();

  const sessionFor = (sender: IpcSenderLike, url: string): RpcSession => {
    let s = sessions.get(sender.id);
    if (s) return s;
    s = createRpcSession({
      backend: opts.backend,
      transport: 'ipc',
      clientId: `ipc-${sender.id}`,
      maxMessageBytes: opts.maxMessageBytes,
      send: (text) => {
        if (!sender.isDestroyed()) sender.send(channel, text);
      },
      onRefused: (e) => opts.onRefused?.(e, url),
    });
    sessions.set(sender.id, s);
    sender.once('destroyed', () => {
      sessions.get(sender.id)?.close();
      sessions.delete(sender.id);
    });
    return s;
  };

  const listener = (event: IpcMainEventLike, ...args: unknown[]) => {
    try {
      const url = event.senderFrame?.url ?? '(no frame)';
      if (!isTrustedSender(event, opts.trustedOrigin)) {
        const error: ApiErrorShape = {
          code: ERROR_CODES.forbidden,
          message: `IPC from a foreign frame refused (${originOf(url) ?? url}); only ${opts.trustedOrigin} may call the API`,
        };
        opts.onRefused?.(error, url);
        if (!event.sender.isDestroyed()) event.sender.send(channel, JSON.stringify({ t: 'fatal', error }));
        return;
      }
      const session = sessionFor(event.sender, url);
      if (args.length !== 1) return session.receive(undefined);
      session.receive(args[0]);
    } catch (e) {
      // Last line of defence: the main process never dies of a message.
      opts.onRefused?.({ code: ERROR_CODES.internal, message: String(e) }, '(unknown)');
    }
  };
  opts.ipcMain.on(channel, listener);

  return {
    sessions,
    close() {
      opts.ipcMain.removeListener(channel, listener);
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
  };
}
