// Names and the preload bridge's shape, free of zod so the sandboxed preload bundle stays tiny.

/** The one Electron IPC channel (renderer ⇄ main). */
export const IPC_CHANNEL = 'aimkp:rpc';
/** The WebSocket path of browser mode. */
export const WS_PATH = '/api';
/** The key on `window` where the preload puts the bridge. */
export const BRIDGE_KEY = 'aimkp';

/**
 * What the Electron preload exposes on `window.aimkp` (and nothing else): a JSON text port to the main
 * process. The renderer wraps it with createPortTransport + createClient, exactly as it wraps a WebSocket.
 */
export interface PreloadBridge {
  /** Sends one ClientMessage as JSON text. */
  send(text: string): void;
  /** Receives ServerMessage JSON texts; returns a function that stops the listener. */
  onMessage(listener: (text: string) => void): () => void;
}
