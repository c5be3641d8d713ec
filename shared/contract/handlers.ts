// What a backend implements: one async function per command, one per subscription. electron/service/ does
// it on top of the supervisor; tests may implement a part (the dispatcher answers unknown-command for the rest).
import type {
  CommandArgs,
  CommandName,
  CommandResponse,
  SubscriptionArgs,
  SubscriptionBatch,
  SubscriptionName,
} from './service';

/** Who is calling and how to notice the caller giving up. */
export interface CallContext {
  /** Aborted when the client cancels the call or disconnects. */
  signal: AbortSignal;
  /** Which transport the call came through. */
  transport: 'ipc' | 'ws' | 'local';
  /** A per-connection id (for logs and per-client limits). */
  clientId: string;
}

export type CommandHandler<C extends CommandName> = (
  req: CommandArgs<C>,
  ctx: CallContext,
) => Promise<CommandResponse<C>>;

export type ServiceHandlers = { [C in CommandName]: CommandHandler<C> };

/**
 * A live subscription: `emit` delivers a batch (the backend batches, ≤ ~20 batches/s per run, every event
 * in some batch); the returned function ends it. Replay of history comes first, in seq order, with
 * `replay: true`. Throwing (or rejecting) refuses the subscription with that error.
 */
export type SubscriptionHandler<S extends SubscriptionName> = (
  req: SubscriptionArgs<S>,
  emit: (batch: SubscriptionBatch<S>) => void,
  ctx: CallContext,
) => (() => void) | Promise<() => void>;

export type SubscriptionHandlers = { [S in SubscriptionName]: SubscriptionHandler<S> };

/** The whole backend a transport serves. */
export interface ServiceBackend {
  handlers: Partial<ServiceHandlers>;
  subscriptions: Partial<SubscriptionHandlers>;
}
