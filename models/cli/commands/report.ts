import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function reportCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp report: not implemented yet', 1);
}
