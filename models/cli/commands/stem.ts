import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function stemCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp stem: not implemented yet', 1);
}
