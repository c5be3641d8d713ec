// Building blocks of the job kinds' params schemas (job-kinds.ts): the ones every kind shares.
import { z } from 'zod';
import { isRunId } from '../workspace';

/** A run id: one folder name inside the workspace's runs/ (workspace.ts isRunId). */
export const RunIdParam = z
  .string()
  .refine(isRunId, "a run id: letters, digits, '.', '_' or '-' (at most 128, no '..')");

/** A folder or file the service resolved (inside the workspace, or one the user named). */
export const PathParam = z.string().min(1);
