// Who is online in each room of this node: a user counts once however many connections follow
// the room. Changes are announced to the room at most once per interval, as the full list.
export class Presence {
  /** room → user → the subscriptions keeping that user online. */
  readonly #rooms = new Map<string, Map<string, Set<object>>>();
  readonly #dirty = new Set<string>();
  readonly #lastSent = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly announce: (room: string, online: string[]) => void,
  ) {}

  /** `holder` (a subscription) puts `user` online in `room`; returns who is online now. */
  join(room: string, user: string, holder: object): string[] {
    let users = this.#rooms.get(room);
    if (!users) {
      users = new Map();
      this.#rooms.set(room, users);
    }
    let holders = users.get(user);
    if (!holders) {
      holders = new Set();
      users.set(user, holders);
      this.#changed(room);
    }
    holders.add(holder);
    return this.online(room);
  }

  leave(room: string, user: string, holder: object): void {
    const users = this.#rooms.get(room);
    const holders = users?.get(user);
    if (!users || !holders?.delete(holder) || holders.size > 0) return;
    users.delete(user);
    if (users.size === 0) this.#rooms.delete(room);
    this.#changed(room);
  }

  online(room: string): string[] {
    return [...(this.#rooms.get(room)?.keys() ?? [])].sort();
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dirty.clear();
  }

  #changed(room: string): void {
    this.#dirty.add(room);
    if (this.#timer) return;
    // Batch the changes of one moment (a reconnect storm) into one announcement per room.
    const now = Date.now();
    let wait = 0;
    for (const r of this.#dirty) wait = Math.max(wait, (this.#lastSent.get(r) ?? 0) + this.intervalMs - now);
    this.#timer = setTimeout(() => this.#flush(), Math.max(0, Math.min(wait, this.intervalMs)));
    this.#timer.unref();
  }

  #flush(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const room of [...this.#dirty]) {
      this.#dirty.delete(room);
      this.#lastSent.set(room, now);
      this.announce(room, this.online(room));
    }
    // Forget rooms that went quiet long ago, so the map does not grow with every room ever seen.
    for (const [room, at] of this.#lastSent) if (now - at > 10 * this.intervalMs) this.#lastSent.delete(room);
  }
}
