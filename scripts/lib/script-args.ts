// The repository scripts' command lines: node's parseArgs plus `--help` and a one-line error for a bad option
// (instead of a stack trace). The usage text is the script's own header comment with its options listed under it,
// so it cannot drift from what the script accepts.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

// The file's leading comment (`//` lines, or one JSDoc block), without its comment marks.
function headerComment(file: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: string[] = [];
  if (lines[0]?.startsWith('/**')) {
    for (const line of lines.slice(1)) {
      if (line.trim().startsWith('*/')) break;
      out.push(line.replace(/^\s*\* ?/, ''));
    }
  } else {
    for (const line of lines) {
      if (!line.startsWith('//')) break;
      out.push(line.replace(/^\/\/ ?/, ''));
    }
  }
  return out.join('\n').trim();
}

/** The usage text: the header comment, then one line per option (with its default). */
export function scriptUsage(file: string, options: Options): string {
  const flags = Object.entries(options).map(([name, o]) => {
    const arg = o.type === 'string' ? ` ${name.toUpperCase()}` : '';
    const def = o.default !== undefined && o.default !== false ? ` (default ${JSON.stringify(o.default)})` : '';
    return `  --${name}${arg}${def}`;
  });
  return `${headerComment(file)}\n\nOptions:\n${[...flags, '  --help'].join('\n')}`;
}

/**
 * parseArgs for the script at `file` (its own path): `--help` prints the usage (`usage`, or the header comment and
 * the options) and exits 0; an unknown option, a missing value or a stray positional prints `<script>: <what>` and
 * the usage, and exits 2.
 */
export function scriptArgs<T extends ParseArgsConfig>(
  file: string,
  config: T,
  usage?: string,
): ReturnType<typeof parseArgs<T>> {
  // Built only when printed: reading the script's own file is no cost a normal run should pay.
  const text = () => usage ?? scriptUsage(file, config.options ?? {});
  const argv = config.args ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(text());
    process.exit(0);
  }
  try {
    return parseArgs<T>(config);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw err;
    console.error(`${basename(file)}: ${(err as Error).message}\n\n${text()}`);
    process.exit(2);
  }
}
