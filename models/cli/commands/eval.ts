import { CliError } from '../cli-error';

// PLACEHOLDER: replaced by the module that implements this command.
export async function evalCommand(_argv: string[]): Promise<number> {
  throw new CliError('aimkp eval: not implemented yet', 1);
}
