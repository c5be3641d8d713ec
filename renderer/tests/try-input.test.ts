// Try it's input rules (issue 16, item 7): the contract's text limit as a counter, and a hint instead of a request
// when there is nothing to read.
import { describe, expect, it } from 'vitest';
import { LIMITS } from '@shared/contract/common';
import { textCounter, TRY_TEXT_LIMIT, uploadProblem } from '../src/lib/try-input';

describe('Try it input', () => {
  it('counts characters against the limit the server enforces', () => {
    expect(TRY_TEXT_LIMIT).toBe(LIMITS.maxTextChars);
    expect(textCounter('a cat')).toEqual({ label: '5 / 20,000 characters', over: false });
    expect(textCounter('x'.repeat(20_000)).over).toBe(false);
    expect(textCounter('x'.repeat(20_001))).toEqual({ label: '20,001 / 20,000 characters', over: true });
  });
  it('says what is missing or too long, in words, before anything is sent', () => {
    expect(uploadProblem(null, '   ')).toBe('Give an image, a text, or both: a model needs something to read');
    expect(uploadProblem('data:image/png;base64,AA', '')).toBeNull();
    expect(uploadProblem(null, 'a red circle')).toBeNull();
    expect(uploadProblem(null, 'y'.repeat(20_500))).toBe(
      'Text: 20,500 characters, over the limit of 20,000; shorten it',
    );
  });
});
