// Starts `npm run web` (browser mode: the built renderer + the API over a WebSocket, backed by the real
// supervisor) on a free port and a given workspace, and stops it (with its child processes) afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface WebServer {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startWeb(workspace: string, timeoutMs = 240_000): Promise<WebServer> {
  const child: ChildProcess = spawn('npm', ['run', 'web', '--', '--port', '0', '--workspace', workspace], {
    cwd: ROOT,
    detached: true, // its own process group, so stop() ends npm, the server and its workers together
    env: { ...process.env, AIMKP_BACKEND: process.env.AIMKP_BACKEND ?? 'wasm' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm run web printed no URL within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run web exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          resolve();
        }
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 15_000).unref();
      }),
  };
}
