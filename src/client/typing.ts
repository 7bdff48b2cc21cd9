// Who is typing in which room, and how often we say that we are. A notice is a passing hint, never
// stored: it fades on its own, so a missed or repeated one costs nothing.

/** How long a typing notice shows after the last one. */
export const TYPING_SHOWN_MS = 4000;
/** We tell the server at most this often that we are typing (it rate-limits too). */
export const TYPING_SENT_EVERY_MS = 2000;

export class TypingTracker {
  readonly #self: string;
  /** Room → user → when their notice stops showing. */
  readonly #rooms = new Map<string, Map<string, number>>();
  #lastSent = Number.NEGATIVE_INFINITY;

  /** `self` is the signed-in user: the server echoes our own notices, which are not shown. */
  constructor(self: string) {
    this.#self = self;
  }

  heard(room: string, user: string, now: number): void {
    if (user === this.#self) return;
    let users = this.#rooms.get(room);
    if (!users) {
      users = new Map();
      this.#rooms.set(room, users);
    }
    users.set(user, now + TYPING_SHOWN_MS);
  }

  /** Their message is what they were typing: the notice would only repeat it. */
  posted(room: string, user: string): void {
    this.#rooms.get(room)?.delete(user);
  }

  /** Names stay until the next `expire`, run about every second. */
  who(room: string): string[] {
    return [...(this.#rooms.get(room)?.keys() ?? [])];
  }

  /** Drops the notices whose time is up; true when one was, so the page redraws only then. */
  expire(now: number): boolean {
    let changed = false;
    for (const users of this.#rooms.values())
      for (const [user, until] of users)
        if (until <= now) {
          users.delete(user);
          changed = true;
        }
    return changed;
  }

  /** Whether a keystroke now should tell the server; counts it as told when it should. */
  shouldSend(now: number): boolean {
    if (now - this.#lastSent < TYPING_SENT_EVERY_MS) return false;
    this.#lastSent = now;
    return true;
  }
}
