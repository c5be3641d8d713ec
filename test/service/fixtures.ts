// The service as the service tests drive it: the real createService on a test's workspace, with no bundled data sets
// and no locator file (nothing outside the workspace is read or written), and a typed client through the local
// transport; both validate every response against the contract, so each answer a test reads is also checked.
import { createService, type CreateServiceOptions, type Service } from '../../electron/service/create-service';
import { createClient, type ApiClient } from '../../shared/contract/client';
import { createLocalTransport } from '../../shared/contract/local-transport';

/** The service on `workspace` (a browser-mode host) and its validating client; the test closes the service. */
export function openService(
  workspace: string,
  supervisor?: CreateServiceOptions['supervisor'],
): { service: Service; api: ApiClient } {
  const service = createService({ workspace, host: 'browser', bundledDataDir: null, locatorFile: null, supervisor });
  const api = createClient(createLocalTransport(service.backend, { validateResponses: true }), {
    validateResponses: true,
  });
  return { service, api };
}

/** runs.start overrides of a tiny real training: 2 epochs of 8 steps on Synth 40, no checkpoint before the end. */
export const TINY_RUN_OVERRIDES = {
  model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 },
  batchSize: 4,
  samplesPerCall: 4,
  maxValid: 4,
  epochs: 2,
  encoder: 'patch:3:4',
  checkpointEvery: 0,
};
