// A configured list of browser origins (`wsOrigins`, `corsOrigins`): comma-separated, `*` for
// any. One parser, so both doors normalise an origin the same way (case, a trailing slash).

export class OriginList {
  readonly #origins: Set<string>;
  /** `*` was listed: every origin is allowed. */
  readonly any: boolean;

  constructor(list: string) {
    const origins = list
      .split(',')
      .map((o) => o.trim().replace(/\/$/, '').toLowerCase())
      .filter((o) => o.length > 0);
    this.any = origins.includes('*');
    this.#origins = new Set(origins);
  }

  /** Nothing listed. */
  get empty(): boolean {
    return this.#origins.size === 0;
  }

  /** Listed, or `*` was: `origin` as a browser sends it (`https://chat.example`). */
  allows(origin: string): boolean {
    return this.any || this.#origins.has(origin.toLowerCase());
  }
}
