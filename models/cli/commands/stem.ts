import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseCommandArgs } from '../args';
import { porterStem } from '../../text/porter-stemmer';

const USAGE = `Usage: aimkp stem [--help] < words.txt

Reads words from stdin, one per line, and prints the stem of each on its own line, in order,
using NLTK 3.8's PorterStemmer in its default mode (NLTK_EXTENSIONS), lower-casing first.
An empty line gives an empty line; a line is stemmed whole (spaces included), as NLTK's stem() would.
Windows line ends (CRLF) are accepted.

Example:
  printf 'always\\naging\\n' | aimkp stem      # prints "alway" and "age"

See docs/stemmer.md.`;

/** Output is written in chunks of about this many characters, waiting for the pipe to drain in between. */
const FLUSH_CHARS = 64 * 1024;

export async function stemCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('stem', argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  await stemLines(process.stdin, process.stdout);
  return 0;
}

/** Streams `input` line by line into `output`, one stem per line. Stops quietly when the reader goes away (EPIPE). */
export async function stemLines(input: Readable, output: Writable): Promise<void> {
  let failure: Error | null = null;
  let closed = false;
  const onError = (err: NodeJS.ErrnoException): void => {
    closed = true;
    if (err.code !== 'EPIPE') failure = err;
  };
  output.on('error', onError);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let pending = '';
  try {
    for await (const line of lines) {
      pending += porterStem(line) + '\n';
      if (pending.length >= FLUSH_CHARS) {
        await write(output, pending);
        pending = '';
        if (closed) break;
      }
    }
    if (!closed && pending !== '') await write(output, pending);
  } finally {
    lines.close();
    output.off('error', onError);
  }
  if (failure !== null) throw failure;
}

/** Writes a chunk, waiting for 'drain' under back-pressure (or for the stream to fail or close). */
async function write(output: Writable, chunk: string): Promise<void> {
  if (output.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      output.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    output.on('drain', done).on('close', done).on('error', done);
  });
}
