// Serving the built renderer (dist/renderer) read-only: GET/HEAD only, paths confined to the root (no
// traversal, no dot files, no symlinks out), correct MIME types, and the single-page app's index.html for
// routes without a file extension. Shared by browser mode (node:http) and the Electron app protocol.
import { realpath, readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

export const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export type StaticResult =
  { status: 200; body: Buffer; contentType: string; path: string } | { status: 400 | 403 | 404 | 405; reason: string };

/**
 * Resolves a request path (`/assets/app.js?x`) to a file under `root`. Never reads outside `root`:
 * the decoded, normalised path must stay inside it, and so must its real path (symlinks).
 */
export async function resolveStatic(root: string, method: string, rawPath: string): Promise<StaticResult> {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, reason: `${method} is not allowed` };
  const pathname = rawPath.split('?')[0].split('#')[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, reason: 'malformed URL encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400, reason: 'bad characters in path' };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return { status: 403, reason: 'path not allowed' };
  const rootReal = await realpath(root).catch(() => null);
  if (rootReal === null) return { status: 404, reason: `renderer not built (${root} missing): run npm run build` };
  const wantsFile = segments.length > 0 && extname(segments[segments.length - 1]) !== '';
  const candidate = wantsFile ? normalize(join(rootReal, ...segments)) : join(rootReal, 'index.html');
  if (candidate !== rootReal && !candidate.startsWith(rootReal + sep))
    return { status: 403, reason: 'path not allowed' };
  const real = await realpath(candidate).catch(() => null);
  if (real === null)
    return {
      status: 404,
      reason: wantsFile ? 'not found' : `renderer not built (${candidate} missing): run npm run build`,
    };
  if (!real.startsWith(rootReal + sep)) return { status: 403, reason: 'path not allowed' };
  const info = await stat(real).catch(() => null);
  if (!info || !info.isFile()) return { status: 404, reason: 'not found' };
  const contentType = MIME[extname(real).toLowerCase()] ?? 'application/octet-stream';
  return { status: 200, body: await readFile(real), contentType, path: real };
}
