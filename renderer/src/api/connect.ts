// Picks the transport at start-up: inside Electron the preload bridge (`window.aimkp`), in a browser a WebSocket
// to the host that served the page (browser mode; a token in the page URL is passed on).
import { createClient, createPortTransport, type ApiClient } from '@shared/contract/client';
import type { PreloadBridge } from '@shared/contract/protocol';
import { apiUrlFor, createWebSocketPort } from '@shared/contract/ws-port';
import { ref } from 'vue';

/** Connection state for the status bar: the WebSocket can drop and come back; the preload bridge never drops. */
export const connection = ref<'connecting' | 'open' | 'closed'>('connecting');

export function connect(win: Window & { aimkp?: PreloadBridge } = window): { client: ApiClient; via: 'electron' | 'websocket' } {
  if (win.aimkp) {
    connection.value = 'open';
    return { client: createClient(createPortTransport(win.aimkp)), via: 'electron' };
  }
  const port = createWebSocketPort(apiUrlFor(win.location));
  port.onStatus?.((s) => (connection.value = s));
  return { client: createClient(createPortTransport(port)), via: 'websocket' };
}
