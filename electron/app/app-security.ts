// The Electron security checklist as plain data and pure functions (electron/README.md lists each item and
// where it is met). main.ts applies them; the tests check them without Electron.
import { resolveStatic } from '../security/static-files';
import { securityHeaders } from '../security/csp';

/** The app's own pages are served from aimkp://app/ (a standard, secure custom scheme; never file://). */
export const APP_SCHEME = 'aimkp';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_START_URL = `${APP_ORIGIN}/index.html`;

/** Privileges of the app scheme (registered before the app is ready). No CORS bypass, no service workers. */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: false,
  allowServiceWorkers: false,
  stream: false,
  bypassCSP: false,
} as const;

/** webPreferences of every window: the renderer is untrusted. */
export function secureWebPreferences(preloadPath: string, opts: { devTools: boolean } = { devTools: false }) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    // Developer tools in a checkout only, not in an installed app.
    devTools: opts.devTools,
  } as const;
}

/** True for a URL of the app's own origin. */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * Requests the app's session lets through: its own scheme, data:/blob: (images the API sends), and the
 * devtools. Everything else — http(s), ws(s), file, ftp — is cancelled: no remote content, ever.
 */
export function isAllowedRequestUrl(url: string): boolean {
  if (isAppUrl(url)) return true;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  return scheme === 'data' || scheme === 'blob' || scheme === 'devtools';
}

/** A link the user clicked that may open in the system browser (https only; never inside the app). */
export function isExternalLinkAllowed(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/** The app protocol handler: a file of the built renderer, with the CSP and the other security headers. */
export async function appProtocolResponse(url: string, method: string, rendererDir: string): Promise<Response> {
  const headers = securityHeaders();
  if (!isAppUrl(url))
    return new Response('not found\n', {
      status: 404,
      headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' },
    });
  const u = new URL(url);
  const r = await resolveStatic(rendererDir, method, u.pathname);
  if (r.status !== 200)
    return new Response(`${r.reason}\n`, {
      status: r.status,
      headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' },
    });
  return new Response(method === 'HEAD' ? null : new Uint8Array(r.body), {
    status: 200,
    headers: { ...headers, 'Content-Type': r.contentType },
  });
}

/** The application menu: standard roles only (no remote help pages, no reload that could lose state silently). */
export function menuTemplate(opts: { isMac: boolean; appName: string; devTools: boolean }) {
  const view: Array<{ role: string } | { type: 'separator' }> = [
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  if (opts.devTools) view.push({ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' });
  return [
    ...(opts.isMac
      ? [
          {
            label: opts.appName,
            submenu: [
              { role: 'about' },
              { type: 'separator' },
              { role: 'hide' },
              { role: 'hideOthers' },
              { role: 'unhide' },
              { type: 'separator' },
              { role: 'quit' },
            ],
          },
        ]
      : []),
    { label: 'File', submenu: [opts.isMac ? { role: 'close' } : { role: 'quit' }] },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    { label: 'View', submenu: view },
    {
      label: 'Window',
      submenu: [{ role: 'minimize' }, ...(opts.isMac ? [{ role: 'zoom' }, { role: 'front' }] : [{ role: 'close' }])],
    },
  ];
}
