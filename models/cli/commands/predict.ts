import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function predictCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp predict: not implemented yet', 1);
}
