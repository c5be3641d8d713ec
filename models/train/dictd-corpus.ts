// A dictd dictionary as pretraining documents (issue 19: "a base that knows language"). GCIDE (Debian package
// dict-gcide: Webster's 1913 plus later additions; GPL-3+, read locally from the installed package, never shipped)
// is 5.2 M words and covers 75 % of ClipArt-KP's train vocabulary (WordNet glosses: 69 %).
//
// dictd format (dictd(8)): NAME.index lines "headword<TAB>offset<TAB>length", numbers in dictd's base64 digits
// (A–Z a–z 0–9 + /, most significant first), into NAME.dict.dz (dictzip = gzip with random-access extras, so plain
// gunzip reads it) or an uncompressed NAME.dict.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CoreError } from '../core-error';

export const GCIDE_DEFAULT_DIR = '/usr/share/dictd';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A dictd base64 number ("BDt" → 1·64² + 3·64 + 45). */
export function dictdNumber(s: string, where: string): number {
  let n = 0;
  for (const ch of s) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new CoreError('BAD_INPUT', `${where}: "${s}" is not a dictd base64 number`);
    n = n * 64 + v;
  }
  return n;
}

export interface DictEntry {
  headword: string;
  /** The definition as prose: markup, pronunciations, etymologies and source tags removed, whitespace joined. */
  text: string;
}

/**
 * Tidies one GCIDE entry body into prose. Drops: the first line (headword, pronunciation \…\, part of speech),
 * `[…]` source tags and etymologies ("[1913 Webster]", "[AS. ān one.]"), `<…>` tags, and "Syn:" lists (bare word
 * lists, not sentences). Keeps the word of a `{…}` cross-reference and the letter of an accent mark (`["e]`).
 */
export function tidyGcideBody(body: string): string {
  const lines = body.split('\n').slice(1);
  const kept: string[] = [];
  let inSyn = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') {
      inSyn = false;
      continue;
    }
    if (/^Syn:/.test(line)) inSyn = true;
    if (inSyn) continue;
    kept.push(line);
  }
  return (
    kept
      .join(' ')
      // Accent notation: ["e] → e, [=a] → a (pre["e]minent → preeminent).
      .replace(/\[[^\sA-Za-z\]]*([A-Za-z]{1,2})\]/g, '$1')
      .replace(/\[[^\]]*\]/g, ' ')
      // {word} is a cross-reference link: keep the word.
      .replace(/\{([^}]*)\}/g, '$1')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\\[^\\]*\\/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/**
 * Every entry of dictd dictionary NAME in `dir` (NAME.index + NAME.dict.dz or NAME.dict), in index order. Index
 * lines whose headword starts with "00-database-" (the dictionary's own metadata) are skipped; a bad line names
 * file and line.
 */
export function readDictd(dir: string, name = 'gcide'): DictEntry[] {
  const indexFile = join(dir, `${name}.index`);
  const dz = join(dir, `${name}.dict.dz`);
  const plain = join(dir, `${name}.dict`);
  if (!existsSync(indexFile) || (!existsSync(dz) && !existsSync(plain)))
    throw new CoreError(
      'BAD_INPUT',
      `${dir}: no dictd dictionary "${name}" (${name}.index and ${name}.dict.dz); install Debian's dict-gcide or pass --gcide DIR`,
    );
  const dict = existsSync(dz) ? gunzipSync(readFileSync(dz)) : readFileSync(plain);
  const out: DictEntry[] = [];
  // Several headwords (spelling variants) can index one entry: keep it once.
  const seen = new Set<string>();
  readFileSync(indexFile, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${indexFile}: line ${i + 1}`;
      const parts = line.split('\t');
      if (parts.length < 3) throw new CoreError('BAD_INPUT', `${where}: expected "headword<TAB>offset<TAB>length"`);
      const [headword, off, len] = parts;
      if (headword.startsWith('00-database-') || headword.startsWith('00database')) return;
      const start = dictdNumber(off, `${where}: field "offset"`);
      const length = dictdNumber(len, `${where}: field "length"`);
      if (start + length > dict.length)
        throw new CoreError(
          'BAD_INPUT',
          `${where}: entry ends at byte ${start + length}, past the dictionary's ${dict.length}`,
        );
      const key = `${start}:${length}`;
      if (seen.has(key)) return;
      seen.add(key);
      const text = tidyGcideBody(dict.subarray(start, start + length).toString('utf8'));
      if (text !== '') out.push({ headword, text });
    });
  return out;
}
