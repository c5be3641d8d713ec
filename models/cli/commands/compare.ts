import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function compareCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp compare: not implemented yet', 1);
}
