// What a line typed at the chat prompt asks for: a message, or one of the slash commands.
// Pure, so the command table is tested without a terminal or a server.
import { isRoomName } from '../../core/names.js';

export type ChatAction =
  | { readonly kind: 'say'; readonly text: string }
  | { readonly kind: 'join'; readonly room: string }
  | { readonly kind: 'part' }
  | { readonly kind: 'who' }
  | { readonly kind: 'older' }
  | { readonly kind: 'edit'; readonly seq: number; readonly text: string }
  | { readonly kind: 'delete'; readonly seq: number }
  | { readonly kind: 'help' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'none' }
  | { readonly kind: 'mistake'; readonly message: string };

/** The slash commands, as /help prints them. */
export const CHAT_COMMANDS: readonly (readonly [string, string])[] = [
  ['/join ROOM', 'join a room (if need be) and talk there; the rooms you were in stay followed'],
  ['/part', 'leave the current room (your membership too) and go back to the one before'],
  ['/me ACTION', 'say what you are doing: "* ada waves"'],
  ['/who', "who is here now, and the room's members"],
  ['/older', 'the page of history before the oldest message shown'],
  ['/edit SEQ TEXT', 'change a message of yours (only if unchanged since read)'],
  ['/delete SEQ', 'delete a message (yours; the owner and admins: any)'],
  ['/quit', 'leave the chat (Ctrl-C and Ctrl-D too); your memberships stay'],
  ['//TEXT', 'a message that starts with a slash'],
];

export function parseChatLine(line: string): ChatAction {
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'none' };
  if (!trimmed.startsWith('/')) return { kind: 'say', text: line };
  if (trimmed.startsWith('//')) return { kind: 'say', text: line.slice(line.indexOf('/') + 1) };
  const [word = '', ...rest] = trimmed.split(/\s+/);
  const args = rest.join(' ');
  const seqOf = (raw: string | undefined): number | undefined => {
    const n = Number(raw?.replace(/^#/, ''));
    return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
  };
  switch (word.toLowerCase()) {
    case '/me':
      // Stored as typed: every door and client shows `/me …` as an action.
      return args === ''
        ? { kind: 'mistake', message: 'usage: /me ACTION' }
        : { kind: 'say', text: `/me ${args}` };
    case '/join': {
      const room = rest[0]?.replace(/^#/, '') ?? '';
      if (rest.length !== 1 || !isRoomName(room))
        return { kind: 'mistake', message: 'usage: /join ROOM (a-z, 0-9, _ and -, up to 64)' };
      return { kind: 'join', room };
    }
    case '/part':
    case '/leave':
      return { kind: 'part' };
    case '/who':
    case '/names':
      return { kind: 'who' };
    case '/older':
    case '/history':
      return { kind: 'older' };
    case '/edit': {
      const seq = seqOf(rest[0]);
      const text = rest.slice(1).join(' ');
      if (seq === undefined || text === '') return { kind: 'mistake', message: 'usage: /edit SEQ TEXT' };
      return { kind: 'edit', seq, text };
    }
    case '/delete': {
      const seq = seqOf(rest[0]);
      if (seq === undefined || rest.length !== 1) return { kind: 'mistake', message: 'usage: /delete SEQ' };
      return { kind: 'delete', seq };
    }
    case '/help':
    case '/?':
      return { kind: 'help' };
    case '/quit':
    case '/exit':
      return { kind: 'quit' };
    default:
      return { kind: 'mistake', message: `unknown command ${word}; /help lists them (//TEXT sends a slash)` };
  }
}
