// The preload of every window (sandboxed, context-isolated). It exposes one thing on window.aimkp: a JSON
// text port to the main process (send + onMessage), built by ipc-preload.ts. No ipcRenderer, no Node API,
// no other channel reaches the page; the main process validates everything that comes through.
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY } from '../shared/contract/channel';
import { createPreloadBridge } from './transport/ipc-preload';

contextBridge.exposeInMainWorld(BRIDGE_KEY, createPreloadBridge(ipcRenderer));
