// IRCv3 capability negotiation (CAP LS / REQ / LIST / END, version 302): which extensions this
// door offers and which one connection turned on. Pure: it answers with reply lines' parameters.

/** What the door offers, with the value CAP LS 302 shows. */
export const CAPABILITIES: ReadonlyMap<string, string> = new Map([
  ['account-tag', ''],
  ['batch', ''],
  ['cap-notify', ''],
  ['draft/chathistory', ''],
  ['draft/message-redaction', ''],
  ['echo-message', ''],
  ['labeled-response', ''],
  ['message-tags', ''],
  ['msgid', ''],
  ['multi-prefix', ''],
  ['sasl', 'PLAIN'],
  ['server-time', ''],
  ['userhost-in-names', ''],
]);

/** Bits for the capabilities that change how a fanned-out line looks (its cached variant). */
export const WIRE = { time: 1, tags: 2, account: 4, msgid: 8 } as const;

export class Capabilities {
  readonly #on = new Set<string>();
  /** Registration waits for CAP END once a client has started negotiating. */
  negotiating = false;
  /** 302 or later: values in LS, and cap-notify implied. */
  version = 0;

  has(cap: string): boolean {
    return this.#on.has(cap);
  }

  /** The line variant a recipient needs: which tags it takes. */
  get wire(): number {
    return (
      (this.#on.has('server-time') ? WIRE.time : 0) |
      (this.#on.has('message-tags') ? WIRE.tags : 0) |
      (this.#on.has('account-tag') ? WIRE.account : 0) |
      // msgid comes with message-tags as well: a client that takes tags can use it.
      (this.#on.has('msgid') || this.#on.has('message-tags') ? WIRE.msgid : 0)
    );
  }

  /** CAP LS [version]: the offer, in as many lines as fit (the trailing `*` marks more to come). */
  list(version: number): string[][] {
    this.negotiating = true;
    if (version > this.version) this.version = version;
    const words = [...CAPABILITIES].map(([name, value]) =>
      value !== '' && version >= 302 ? `${name}=${value}` : name,
    );
    const lines: string[][] = [];
    let current = '';
    for (const w of words) {
      if (current.length + w.length + 1 > 400) {
        lines.push(['LS', '*', current]);
        current = '';
      }
      current = current === '' ? w : `${current} ${w}`;
    }
    lines.push(['LS', current]);
    return lines;
  }

  /** CAP REQ: all of them or none (`-name` turns one off). */
  request(wanted: string): { ack: boolean; caps: string } {
    this.negotiating = true;
    const items = wanted.trim().split(/ +/).filter(Boolean);
    const ok = items.length > 0 && items.every((i) => CAPABILITIES.has(i.startsWith('-') ? i.slice(1) : i));
    if (ok)
      for (const i of items) {
        if (i.startsWith('-')) this.#on.delete(i.slice(1));
        else this.#on.add(i);
      }
    return { ack: ok, caps: wanted.trim() };
  }

  enabled(): string {
    return [...this.#on].join(' ');
  }
}
