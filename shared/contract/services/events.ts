// The events domain: one subscription, the event batches of one stream (a run or a job) or of every stream.
import { EventBatch, SubscribeRequest } from '../events';

export const EVENTS_SUBSCRIPTIONS = {
  'events.subscribe': {
    request: SubscribeRequest,
    batch: EventBatch,
    doc: 'Event batches of one stream (from sinceSeq) or of all streams.',
  },
};
