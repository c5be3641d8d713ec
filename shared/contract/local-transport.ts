// In-process transport: a client calling a backend directly, through the same validation as the real
// transports (dispatch). For tests, scripts and a renderer test harness.
import { ApiError, type Transport } from './client';
import { dispatchCall, openSubscription } from './dispatch';
import type { ServiceBackend } from './handlers';

let localClients = 0;

export function createLocalTransport(backend: ServiceBackend, opts: { validateResponses?: boolean } = {}): Transport {
  const clientId = `local-${++localClients}`;
  return {
    async call(command, arg, signal) {
      const controller = new AbortController();
      signal?.addEventListener('abort', () => controller.abort(), { once: true });
      // A JSON round trip, so a handler sees exactly what a remote one would (no shared references).
      const wire = JSON.parse(JSON.stringify(arg === undefined ? {} : arg)) as unknown;
      const r = await dispatchCall(
        backend,
        command,
        wire,
        { signal: controller.signal, transport: 'local', clientId },
        opts,
      );
      if (!r.ok) throw new ApiError(r.error);
      return JSON.parse(JSON.stringify(r.data)) as unknown;
    },
    listen(event, arg, onData, onError) {
      const controller = new AbortController();
      let close: (() => void) | null = null;
      let stopped = false;
      void openSubscription(
        backend,
        event,
        JSON.parse(JSON.stringify(arg())) as unknown,
        (b) => {
          if (!stopped) onData(JSON.parse(JSON.stringify(b)) as unknown);
        },
        { signal: controller.signal, transport: 'local', clientId },
      ).then((r) => {
        if (!r.ok) return onError?.(new ApiError(r.error));
        if (stopped) r.data();
        else close = r.data;
      });
      return () => {
        stopped = true;
        controller.abort();
        close?.();
      };
    },
  };
}
