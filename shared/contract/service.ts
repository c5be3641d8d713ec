// THE service definition: every command's request and response schema and the event subscription. The
// TypeScript types, the runtime validators, the IPC channel and the WebSocket protocol all derive from this
// object; no command name or payload type is written anywhere else. docs/api.md describes each command.
//
// Each domain declares its own part (services/: system, datasets, runs, compare, predict, jobs, study, events), as VS
// Code registers one channel per service; SERVICE joins them. Command names stay `domain.verb` on the wire.
//
// Conventions: requests are strict objects (unknown keys are refused, so typos fail loudly); optional fields
// with defaults are applied by the validator before the handler runs (handlers receive CommandArgs<C>).
// Responses are plain JSON. Long work (training, evaluation, robustness, imports) answers at once with a
// job id and the stream whose events report its progress.
import type { z } from 'zod';
import { ServiceEventSchema } from './events';
import { SYSTEM_COMMANDS } from './services/system';
import { DATASETS_COMMANDS } from './services/datasets';
import { RUNS_COMMANDS } from './services/runs';
import { COMPARE_COMMANDS } from './services/compare';
import { PREDICT_COMMANDS } from './services/predict';
import { JOBS_COMMANDS } from './services/jobs';
import { STUDY_COMMANDS } from './services/study';
import { EVENTS_SUBSCRIPTIONS } from './services/events';

export * from './common';
export * from './events';
export * from './services/system';
export * from './services/datasets';
export * from './services/runs';
export * from './services/compare';
export * from './services/predict';
export * from './services/jobs';
export * from './services/study';
export * from './services/events';

export const SERVICE = {
  commands: {
    ...SYSTEM_COMMANDS,
    ...DATASETS_COMMANDS,
    ...RUNS_COMMANDS,
    ...COMPARE_COMMANDS,
    ...PREDICT_COMMANDS,
    ...JOBS_COMMANDS,
    ...STUDY_COMMANDS,
  },
  subscriptions: EVENTS_SUBSCRIPTIONS,
  event: ServiceEventSchema,
} as const;

export type Service = typeof SERVICE;
export type CommandName = keyof Service['commands'];
export type SubscriptionName = keyof Service['subscriptions'];
/** What a client sends (defaults may be omitted). */
export type CommandRequest<C extends CommandName> = z.input<Service['commands'][C]['request']>;
/** What a handler receives: the request after validation, defaults applied. */
export type CommandArgs<C extends CommandName> = z.output<Service['commands'][C]['request']>;
export type CommandResponse<C extends CommandName> = z.output<Service['commands'][C]['response']>;
export type SubscriptionRequest<S extends SubscriptionName> = z.input<Service['subscriptions'][S]['request']>;
export type SubscriptionArgs<S extends SubscriptionName> = z.output<Service['subscriptions'][S]['request']>;
export type SubscriptionBatch<S extends SubscriptionName> = z.output<Service['subscriptions'][S]['batch']>;

export const COMMAND_NAMES = Object.keys(SERVICE.commands) as CommandName[];
export const SUBSCRIPTION_NAMES = Object.keys(SERVICE.subscriptions) as SubscriptionName[];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(SERVICE.commands, name);
}
export function isSubscriptionName(name: unknown): name is SubscriptionName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(SERVICE.subscriptions, name);
}
