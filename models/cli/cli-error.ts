/** An error caused by the user's input (bad flag, unreadable file, malformed line): printed without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
