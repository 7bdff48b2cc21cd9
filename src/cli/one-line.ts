// A message's text made safe to print: one line, no control characters.

/**
 * A message's text on one line and harmless to a terminal: backslash, line breaks and every
 * other control character (escape sequences included) written as JSON escapes, so each message
 * is exactly one line for grep and wc -l and no message can drive the terminal.
 */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes.
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
