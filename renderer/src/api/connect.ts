// Picks the transport at start-up: inside Electron the preload bridge (window[BRIDGE_KEY]), in a browser a
// WebSocket to the host that served the page (browser mode; a token in the page URL is passed on).
import { BRIDGE_KEY, WS_PATH, type PreloadBridge } from '@shared/contract/channel';
import { createClient, createPortTransport, type ApiClient } from '@shared/contract/client';
import { apiUrlFor, createWebSocketPort } from '@shared/contract/ws-port';
import { ref } from 'vue';

/** Connection state for the status bar: the WebSocket can drop and come back; the preload bridge never drops. */
export const connection = ref<'connecting' | 'open' | 'closed'>('connecting');

export function connect(win: Window = window): { client: ApiClient; via: 'electron' | 'websocket' } {
  const bridge = (win as unknown as Record<string, PreloadBridge | undefined>)[BRIDGE_KEY];
  if (bridge) {
    connection.value = 'open';
    return { client: createClient(createPortTransport(bridge)), via: 'electron' };
  }
  const port = createWebSocketPort(apiUrlFor(win.location, WS_PATH));
  port.onStatus?.((s) => (connection.value = s));
  return { client: createClient(createPortTransport(port)), via: 'websocket' };
}
