// A MINIMAL STAND-IN for the `electron` module, for test/electron/main.test.ts only: the few members
// electron/main.ts uses, recording what main.ts does with them. Events are plain EventEmitters; nothing here
// imitates Chromium. Everything main.ts calls beneath it (service, supervisor, transport, protocol handler) is real.
import { EventEmitter } from 'node:events';

type Listener = (...args: never[]) => unknown;

export const recorded = {
  schemes: [] as unknown[],
  protocolHandlers: new Map<string, (req: { url: string; method: string }) => Promise<Response>>(),
  permissionRequest: null as null | ((wc: unknown, permission: string, cb: (ok: boolean) => void) => void),
  permissionCheck: null as null | ((...a: unknown[]) => boolean),
  devicePermission: null as null | ((...a: unknown[]) => boolean),
  beforeRequest: null as null | ((details: { url: string }, cb: (r: { cancel: boolean }) => void) => void),
  windows: [] as FakeBrowserWindow[],
  menu: null as unknown,
  quitCalls: 0,
  exitCode: null as number | null,
  lock: true,
};

class FakeApp extends EventEmitter {
  name = 'AimKP Workbench';
  isPackaged = false;
  private readyResolve!: () => void;
  private readonly ready = new Promise<void>((r) => (this.readyResolve = r));
  requestSingleInstanceLock(): boolean {
    return recorded.lock;
  }
  whenReady(): Promise<void> {
    return this.ready;
  }
  /** Test hook: Electron became ready. */
  fireReady(): void {
    this.readyResolve();
  }
  quit(): void {
    recorded.quitCalls++;
    const event = {
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    this.emit('before-quit', event);
  }
  exit(code: number): void {
    recorded.exitCode = code;
  }
}
export const app = new FakeApp();

export class FakeWebContents extends EventEmitter {
  static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  readonly sent: unknown[][] = [];
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  destroyed = false;
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.openHandler = h;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, ...args]);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static all: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  loadedUrl: string | null = null;
  constructor(readonly options: { webPreferences: Record<string, unknown> } & Record<string, unknown>) {
    super();
    recorded.windows.push(this);
    FakeBrowserWindow.all.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }
  static getAllWindows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.all;
  }
  loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
    return Promise.resolve();
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  focus(): void {}
  show(): void {}
}
export const BrowserWindow = FakeBrowserWindow;

class FakeIpcMain extends EventEmitter {}
export const ipcMain = new FakeIpcMain();

export const protocol = {
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    recorded.schemes.push(...schemes);
  },
  handle(scheme: string, handler: (req: { url: string; method: string }) => Promise<Response>): void {
    recorded.protocolHandlers.set(scheme, handler);
  },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler(h: typeof recorded.permissionRequest): void {
      recorded.permissionRequest = h;
    },
    setPermissionCheckHandler(h: typeof recorded.permissionCheck): void {
      recorded.permissionCheck = h;
    },
    setDevicePermissionHandler(h: typeof recorded.devicePermission): void {
      recorded.devicePermission = h;
    },
    webRequest: {
      onBeforeRequest(h: typeof recorded.beforeRequest): void {
        recorded.beforeRequest = h;
      },
    },
  },
};

export const Menu = {
  buildFromTemplate(t: unknown): unknown {
    return { template: t };
  },
  setApplicationMenu(m: unknown): void {
    recorded.menu = m;
  },
};

export const shell = {
  opened: [] as string[],
  openExternal(url: string): Promise<void> {
    shell.opened.push(url);
    return Promise.resolve();
  },
};

export type WebContents = FakeWebContents;
export type { Listener };
