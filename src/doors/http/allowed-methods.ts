// Which methods a path answers to, so a wrong method gets 405 with an Allow header rather than
// a 404 that suggests the resource does not exist. Fed by fastify's onRoute hook.
export class AllowedMethods {
  readonly #routes: { pattern: RegExp; method: string }[] = [];

  add(url: string, methods: string | string[]): void {
    // `:param` segments match any one segment, as in fastify's router.
    const source = url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}/?$`);
    for (const method of Array.isArray(methods) ? methods : [methods]) this.#routes.push({ pattern, method });
  }

  /** The methods `path` answers to, sorted; empty when no route has this path. */
  for(path: string): string[] {
    const methods = new Set<string>();
    for (const r of this.#routes) if (r.pattern.test(path)) methods.add(r.method);
    return [...methods].sort();
  }
}
