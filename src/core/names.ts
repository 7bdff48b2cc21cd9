// Rules for names and message text, shared by every door so each validates the same way.

/** Room names: lowercase, URL-safe, stable (they are the room's address in every door). */
export const ROOM_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
/** User names follow the same alphabet, shorter because they appear on every message. */
export const USER_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';

const roomName = new RegExp(ROOM_NAME_PATTERN);
const userName = new RegExp(USER_NAME_PATTERN);

export const isRoomName = (s: unknown): s is string => typeof s === 'string' && roomName.test(s);
export const isUserName = (s: unknown): s is string => typeof s === 'string' && userName.test(s);

/**
 * Length in Unicode code points, the unit every text limit is stated in: an emoji is one
 * character to a person, two UTF-16 units to JavaScript.
 */
export function codePointLength(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        surrogatePairs++;
        i++;
      }
    }
  }
  return text.length - surrogatePairs;
}

export type TextProblem = 'text_invalid' | 'text_too_long';

/** Why a message text is refused, or undefined when it is fine. */
export function checkText(text: string, maxLength: number): TextProblem | undefined {
  // Fast path: UTF-16 length is an upper bound on the code point count.
  if (text.length > maxLength && codePointLength(text) > maxLength) return 'text_too_long';
  if (text.trim().length === 0 || !text.isWellFormed()) return 'text_invalid';
  return undefined;
}
