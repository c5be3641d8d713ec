// The service: every command of shared/contract/service.ts implemented on top of the supervisor (jobs, runs,
// events) and the core (presets, data sets, comparisons, reports). One factory per domain (handlers/<domain>.ts,
// the same domains as the contract's services/), joined here. Requests arrive validated by the contract's
// dispatcher (defaults filled in); long work answers at once with a job id and its stream.
import { join } from 'node:path';
import type { ServiceHandlers, SubscriptionHandlers } from '../../shared/contract/handlers';
import type { ServiceContext } from './handlers/context';
import { compareHandlers } from './handlers/compare';
import { datasetsHandlers } from './handlers/datasets';
import { eventsSubscriptions } from './handlers/events';
import { jobsHandlers } from './handlers/jobs';
import { predictHandlers } from './handlers/predict';
import { runViews } from './handlers/run-views';
import { runsHandlers } from './handlers/runs';
import { studyHandlers } from './handlers/study';
import { systemHandlers } from './handlers/system';
import { RunHistoryCache } from './run-history';

export type { ServiceContext } from './handlers/context';
export { newRunId, presetConfig } from './handlers/runs';

export function createHandlers(c: ServiceContext): {
  handlers: ServiceHandlers;
  subscriptions: SubscriptionHandlers;
  close: () => Promise<void>;
} {
  const histories = new RunHistoryCache((id) => c.supervisor().streamFile(id), {
    persistDir: () => join(c.supervisor().paths.cache, 'history'),
  });
  const views = runViews(c);
  const handlers: ServiceHandlers = {
    ...systemHandlers(c),
    ...datasetsHandlers(c),
    ...runsHandlers(c, views, histories),
    ...compareHandlers(c, views),
    ...predictHandlers(c, views),
    ...jobsHandlers(c, views),
    ...studyHandlers(c),
  };
  return { handlers, subscriptions: eventsSubscriptions(c), close: () => histories.close() };
}
