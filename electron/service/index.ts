// The workbench service: createService() → the ServiceBackend that electron/transport serves.
export { createService, defaultLocatorFile, type CreateServiceOptions, type Service } from './create-service';
export { createHandlers, presetConfig, newRunId, type ServiceContext } from './handlers';
export { DatasetRegistry, BUNDLED_DATASET_ID } from './datasets';
