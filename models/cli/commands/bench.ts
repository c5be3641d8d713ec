import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function benchCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp bench: not implemented yet', 1);
}
