// Browser-side WebSocket as a reconnecting TextPort (browser mode of the workbench). Uses the standard
// WebSocket API only, so it runs in the renderer; tests pass the `ws` package's class, which has the same API.
import type { TextPort } from './client';

/** The part of the WebSocket API used here (the DOM's WebSocket and `ws`'s both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface WebSocketPortOptions {
  /** Creates the socket (default: the global WebSocket). */
  connect?: WebSocketFactory;
  /** Reconnect delay: doubles from minDelayMs to maxDelayMs, reset after a successful open. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface WebSocketPort extends TextPort {
  /** Stops for good (no reconnect). */
  close(): void;
}

const OPEN = 1;

/** The API URL of browser mode for the page at `location` (same host; the token travels in the query). */
export function apiUrlFor(location: { protocol: string; host: string; search: string }, path = '/api'): string {
  const token = new URLSearchParams(location.search).get('token');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export function createWebSocketPort(url: string, opts: WebSocketPortOptions = {}): WebSocketPort {
  const connect: WebSocketFactory =
    opts.connect ??
    ((u) => new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(u));
  const minDelay = opts.minDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 5000;
  const messageListeners = new Set<(text: string) => void>();
  const statusListeners = new Set<(s: 'open' | 'closed') => void>();
  let socket: WebSocketLike | null = null;
  let stopped = false;
  let delay = minDelay;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wasOpen = false;

  const start = () => {
    if (stopped) return;
    const ws = connect(url);
    socket = ws;
    ws.onopen = () => {
      delay = minDelay;
      wasOpen = true;
      for (const l of statusListeners) l('open');
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      for (const l of messageListeners) l(ev.data);
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (wasOpen) {
        wasOpen = false;
        for (const l of statusListeners) l('closed');
      }
      if (stopped) return;
      timer = setTimeout(start, delay);
      delay = Math.min(maxDelay, delay * 2);
    };
  };
  start();

  return {
    send(text) {
      if (socket && socket.readyState === OPEN) socket.send(text);
    },
    onMessage(listener) {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    isOpen: () => socket !== null && socket.readyState === OPEN,
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const ws = socket;
      socket = null;
      if (wasOpen) {
        wasOpen = false;
        for (const l of statusListeners) l('closed');
      }
      ws?.close(1000, 'closed by client');
    },
  };
}
