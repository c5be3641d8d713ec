import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function robustnessCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp robustness: not implemented yet', 1);
}
