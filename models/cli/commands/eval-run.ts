import { CliError } from '../cli-error';

// PLACEHOLDER: `aimkp eval --run RUN --data DIR` is implemented with the training engine.
export async function evalRunCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp eval --run: not implemented yet', 1);
}
