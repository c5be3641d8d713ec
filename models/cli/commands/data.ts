import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function dataCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp data: not implemented yet', 1);
}
