// Renderer side of the Electron IPC transport, in plain code: preload.ts hands it Electron's ipcRenderer
// and exposes the result with contextBridge. The bridge is a text port and nothing more: the renderer
// cannot name another channel, reach ipcRenderer, or send anything but a string.
import { IPC_CHANNEL, type PreloadBridge } from '../../shared/contract/channel';

/** The members of Electron's ipcRenderer used here. */
export interface IpcRendererLike {
  send(channel: string, ...args: unknown[]): void;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function createPreloadBridge(ipcRenderer: IpcRendererLike, channel: string = IPC_CHANNEL): PreloadBridge {
  return Object.freeze({
    send(text: string): void {
      if (typeof text !== 'string') throw new TypeError('aimkp.send takes a JSON string');
      ipcRenderer.send(channel, text);
    },
    onMessage(listener: (text: string) => void): () => void {
      if (typeof listener !== 'function') throw new TypeError('aimkp.onMessage takes a function');
      // Only the text is passed on: the IpcRendererEvent (with its sender) never reaches the page.
      const wrapped = (_event: unknown, text: unknown) => {
        if (typeof text === 'string') listener(text);
      };
      ipcRenderer.on(channel, wrapped);
      return () => {
        ipcRenderer.removeListener(channel, wrapped);
      };
    },
  });
}
