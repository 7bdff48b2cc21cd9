// Identical reads asked for while one is in flight share the next one. Each caller gets an answer
// read after it asked (never the older one already in flight), so nothing committed before a
// request is missed; and a thousand pubs to one room cost two queries at a time, not a thousand
// waits for a pooled connection.
export class ReadCoalescer {
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #next = new Map<string, Promise<unknown>>();

  /** `read()` for `key`, or a share of the next read of `key` if one is running now. */
  run<T>(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (!running) return this.#start(key, read);
    let next = this.#next.get(key);
    if (!next) {
      const settled = () => {
        this.#next.delete(key);
        return this.#start(key, read);
      };
      next = running.then(settled, settled);
      this.#next.set(key, next);
    }
    return next as Promise<T>;
  }

  #start<T>(key: string, read: () => Promise<T>): Promise<T> {
    const p = read();
    this.#running.set(key, p);
    const clear = () => {
      if (this.#running.get(key) === p) this.#running.delete(key);
    };
    p.then(clear, clear);
    return p;
  }
}
