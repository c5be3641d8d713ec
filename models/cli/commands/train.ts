import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function trainCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp train: not implemented yet', 1);
}
