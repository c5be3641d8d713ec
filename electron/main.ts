// The Electron main process, kept thin: the app protocol serving dist/renderer, one hardened window, the
// IPC transport wired to the service (supervisor), the menu, the single-instance lock, a clean quit. Every
// decision lives in plain-Node modules (app/app-security.ts, transport/, service/) that the tests run; this
// file only connects them to Electron. electron/README.md lists the security checklist item by item.
import { app, BrowserWindow, ipcMain, Menu, protocol, session, shell, type WebContents } from 'electron';
import {
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  APP_START_URL,
  appProtocolResponse,
  isAllowedRequestUrl,
  isAppUrl,
  isExternalLinkAllowed,
  menuTemplate,
  secureWebPreferences,
  APP_ORIGIN,
} from './app/app-security';
import { appPaths } from './app/app-paths';
import { bundledDataDir, usePackedResources } from './packaged-resources';
import { createService } from './service/index';
import { serveIpc } from './transport/ipc-main';

// Must precede `ready`: the app scheme is standard + secure (an origin of its own, fetch allowed, no CORS bypass).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

const paths = appPaths(import.meta.url);
let mainWindow: BrowserWindow | null = null;

/** Navigation, new windows, webviews: denied for every web contents the app ever creates. */
function harden(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // A link to documentation may open in the user's browser; nothing opens inside the app.
    if (isExternalLinkAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 920,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'AimKP Workbench',
    webPreferences: secureWebPreferences(paths.preload, { devTools: !app.isPackaged }),
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_START_URL);
  return win;
}

async function start(): Promise<void> {
  app.on('web-contents-created', (_event, contents) => harden(contents));
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  await app.whenReady();

  usePackedResources(import.meta.url);
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequestUrl(details.url) }));
  protocol.handle(APP_SCHEME, (request) => appProtocolResponse(request.url, request.method, paths.rendererDir));

  const service = createService({ host: 'electron', bundledDataDir: bundledDataDir(paths.clipartKp) });
  const ipc = serveIpc({
    ipcMain,
    backend: service.backend,
    trustedOrigin: APP_ORIGIN,
    onRefused: (error, url) => console.warn(`[ipc] refused ${error.code} from ${url}: ${error.message.slice(0, 300)}`),
  });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        isMac: process.platform === 'darwin',
        appName: app.name,
        devTools: !app.isPackaged,
      }) as Electron.MenuItemConstructorOptions[],
    ),
  );
  mainWindow = createWindow();

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Quitting stops running jobs at a step boundary with a checkpoint (the service), then exits.
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    event.preventDefault();
    closing = true;
    ipc.close();
    service
      .close()
      .catch((e: unknown) => console.error(`[quit] ${String(e)}`))
      .finally(() => app.quit());
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  start().catch((e: unknown) => {
    console.error(`AimKP Workbench could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    app.exit(1);
  });
}
