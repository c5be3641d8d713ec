// Try it's input rules, checked before a request is sent: the text limit the contract enforces (shown as a counter,
// never as a raw "Too big" from the server) and the need for at least an image or a text.
import { LIMITS } from '@shared/contract/common';

export const TRY_TEXT_LIMIT = LIMITS.maxTextChars;

/** "1,234 / 20,000 characters", and whether the text is over the limit. */
export function textCounter(text: string): { label: string; over: boolean } {
  const n = text.length;
  return {
    label: `${n.toLocaleString('en-US')} / ${TRY_TEXT_LIMIT.toLocaleString('en-US')} characters`,
    over: n > TRY_TEXT_LIMIT,
  };
}

/** Why an own image + text cannot be predicted on yet (null: it can). */
export function uploadProblem(image: string | null, text: string): string | null {
  if (text.length > TRY_TEXT_LIMIT)
    return `Text: ${text.length.toLocaleString('en-US')} characters, over the limit of ${TRY_TEXT_LIMIT.toLocaleString('en-US')}; shorten it`;
  if (image === null && text.trim() === '') return 'Give an image, a text, or both: a model needs something to read';
  return null;
}
