// irc-framework ships no types; the tests use its Client through this much of its API.
declare module 'irc-framework' {
  import { EventEmitter } from 'node:events';
  export class Client extends EventEmitter {
    user: { nick: string };
    network: { cap: { isEnabled(cap: string): boolean } };
    connection: { end(): void };
    connect(options: Record<string, unknown>): void;
    join(channel: string): void;
    say(target: string, message: string): void;
    raw(line: string): void;
    quit(message?: string): void;
  }
  const IRC: { Client: typeof Client };
  export default IRC;
}
