// events.subscribe: event batches of one stream (a run or a job) from a seq, or of every stream.
import type { SubscriptionHandlers } from '../../../shared/contract/handlers';
import type { ServiceContext } from './context';

export function eventsSubscriptions(c: ServiceContext): SubscriptionHandlers {
  return {
    'events.subscribe': async (req, emit) => {
      const s = c.supervisor();
      if (req.runId === '*')
        return s.subscribe('*', (b) => emit(b), 'sinceSeqByRun' in req ? req.sinceSeqByRun : undefined);
      return s.subscribe(req.runId, (b) => emit(b), 'sinceSeq' in req ? (req.sinceSeq ?? undefined) : undefined);
    },
  };
}
