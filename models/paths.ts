// The core takes absolute paths: it runs inside a worker whose working directory means nothing to the user
// (the app's, not a shell's). The CLI resolves its flags against the shell's directory before calling in.
import { isAbsolute } from 'node:path';
import { CoreError } from './core-error';

/** `path` itself, or a BAD_INPUT error naming the option when it is not absolute. */
export function absolutePath(path: string, option: string): string {
  if (!isAbsolute(path))
    throw new CoreError('BAD_INPUT', `${option}: expected an absolute path, got "${path}"`, { field: option, path });
  return path;
}

export function optionalAbsolutePath(path: string | undefined, option: string): string | undefined {
  return path === undefined ? undefined : absolutePath(path, option);
}
