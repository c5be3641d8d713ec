// The service contract in one import: schemas, types, client, dispatcher, protocol.
export * from './service';
export * from './handlers';
export * from './client';
export * from './dispatch';
export * from './protocol';
export * from './ws-port';
export * from './local-transport';
