// `aimkp serve` / `npm run web`: browser mode. Starts the service (supervisor on the workspace) and the HTTP +
// WebSocket server, prints the URL on one line, and on Ctrl-C stops running jobs at a step boundary.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { appPaths } from '../app/app-paths';
import { bundledDataDir, usePackedResources } from '../packaged-resources';
import { labSettingsFromEnv } from '../queue/cli';
import { labQueueFactory } from '../queue/lab-queue';
import { preflight } from '../queue/redis-preflight';
import { createService } from '../service/index';
import type { SupervisorOptions } from '../supervisor/supervisor';
import { DEFAULT_HOST, DEFAULT_PORT, startWorkbenchServer } from './server';

export const SERVE_HELP = `Usage: aimkp serve [--host H] [--port P] [--workspace DIR] [--token T] [--origin URL]... [--redis URL [--take-jobs]]

Browser mode: serves the workbench UI (dist/renderer, built by npm run build) and its API over a WebSocket.
  --host H         address to listen on (default ${DEFAULT_HOST}; anything beyond loopback requires a token)
  --port P         port (default ${DEFAULT_PORT}; 0 = any free port)
  --workspace DIR  workspace folder (runs, imported data sets, feature cache); default: the saved one
  --token T        require this token on the API (default: none on loopback, a random one elsewhere)
  --origin URL     also accept WebSocket connections from this page origin (e.g. the vite dev server)
  --renderer DIR   serve this folder instead of dist/renderer
  --redis URL      use the lab's queue (BullMQ on Redis; docs/sweeps.md) instead of this machine's: runs are trained
                   by \`aimkp worker\` processes on the lab's machines; the workspace must be the shared folder
  --take-jobs      with --redis: this workbench also trains queued runs (settings' concurrency)`;

export interface ServeArgs {
  host: string;
  port: number;
  workspace?: string;
  token?: string;
  origins: string[];
  renderer?: string;
  redis?: string;
  takeJobs: boolean;
  help: boolean;
}

export function parseServeArgs(argv: readonly string[]): ServeArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      workspace: { type: 'string' },
      token: { type: 'string' },
      origin: { type: 'string', multiple: true },
      renderer: { type: 'string' },
      redis: { type: 'string' },
      'take-jobs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: expected a port number 0–65535, got "${values.port}"`);
  if (values.token !== undefined && values.token.length < 8) throw new Error('--token: at least 8 characters');
  if (values['take-jobs'] && !values.redis) throw new Error('--take-jobs needs --redis');
  return {
    host: values.host ?? DEFAULT_HOST,
    port,
    workspace: values.workspace ? resolve(values.workspace) : undefined,
    token: values.token,
    origins: values.origin ?? [],
    renderer: values.renderer ? resolve(values.renderer) : undefined,
    redis: values.redis,
    takeJobs: values['take-jobs'] ?? false,
    help: values.help ?? false,
  };
}

/** Runs until SIGINT / SIGTERM; returns the exit code. */
export async function serveMain(argv: readonly string[]): Promise<number> {
  let args: ServeArgs;
  try {
    args = parseServeArgs(argv);
  } catch (e) {
    console.error(`aimkp serve: ${(e as Error).message}\n\n${SERVE_HELP}`);
    return 2;
  }
  if (args.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  usePackedResources(import.meta.url);
  const paths = appPaths(import.meta.url);
  let lab: Pick<SupervisorOptions, 'createQueue' | 'sharedWorkspace'> | undefined;
  if (args.redis) {
    try {
      // Checked once before the (synchronous) supervisor starts: a wrong password etc. is one line.
      const pf = await preflight(args.redis);
      for (const w of pf.warnings) console.error(`[serve] warning: ${w}`);
      lab = {
        sharedWorkspace: true,
        createQueue: labQueueFactory({
          target: pf.target,
          takeJobs: args.takeJobs,
          settings: labSettingsFromEnv(),
          log: (line) => console.error(`[lab] ${line}`),
        }),
      };
    } catch (e) {
      console.error(`aimkp serve: ${(e as Error).message}`);
      return 2;
    }
  }
  const service = createService({
    host: 'browser',
    workspace: args.workspace,
    bundledDataDir: bundledDataDir(paths.clipartKp),
    supervisor: lab,
  });
  let server;
  try {
    server = await startWorkbenchServer({
      backend: service.backend,
      rendererDir: args.renderer ?? paths.rendererDir,
      host: args.host,
      port: args.port,
      token: args.token,
      extraOrigins: args.origins,
      log: (line) => console.error(`[serve] ${line}`),
    });
  } catch (e) {
    await service.close();
    console.error(`aimkp serve: ${(e as Error).message}`);
    return 1;
  }
  console.log(`AimKP Workbench (browser mode): ${server.url}`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.error('[serve] stopping: running jobs checkpoint at the next step');
  await server.close();
  await service.close();
  return 0;
}
