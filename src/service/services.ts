// The use cases every door shares, built once per node. A door receives this object and nothing
// below it, so authorization and validation cannot be bypassed by a new door.
import type { Tokens } from '../auth/tokens.js';
import type { Bus, RoomEvent } from '../bus/bus.js';
import type { Config } from '../config.js';
import { JourneyLog } from '../core/journey.js';
import type { Limiter, RateLimit } from '../core/rate-limiter.js';
import type { Via } from '../core/types.js';
import type { Store } from '../store/store.js';
import { Accounts } from './accounts.js';
import { Messages } from './messages.js';
import { PostAccess } from './post-access.js';
import { Rooms } from './rooms.js';

export interface Services {
  readonly accounts: Accounts;
  readonly rooms: Rooms;
  readonly messages: Messages;
  readonly tokens: Tokens;
  /** The journeys of this node's recent messages (GET …/messages/{seq}/trace). */
  readonly journeys: JourneyLog;
  /** A named rate limit, shared by every node when the bus connects them. */
  readonly limiter: (name: string, limit: RateLimit) => Limiter;
  /** Undefined when everything committed survives a power loss, else once it does (Store.untilDurable). */
  readonly untilDurable: () => Promise<void> | undefined;
}

export interface ServiceDeps {
  readonly config: Config;
  readonly store: Store;
  readonly bus: Bus;
  readonly tokens: Tokens;
  readonly onStored?: (via: Via) => void;
  /** Called when the bus refuses an event; the event is durable and subscribers resume by seq. */
  readonly onPublishError?: (err: unknown, event: RoomEvent) => void;
}

export function createServices(deps: ServiceDeps): Services {
  const { config, store, bus, tokens } = deps;
  const journeys = new JourneyLog({ perRoom: config.traceMessages, rooms: config.traceRooms });
  const publish = (event: RoomEvent) => {
    bus.publish(event).catch((err: unknown) => deps.onPublishError?.(err, event));
  };
  // A user deleted or changed on any node: this node's verified tokens of theirs are forgotten at
  // once, so the next request reads what they are now.
  const access = new PostAccess(store, {
    ttl: config.postAccessTtl,
    maxRooms: config.postAccessRooms,
    maxRoles: config.postAccessAuthors,
  });
  bus.subscribe((event) => {
    if (event.type === 'user_deleted') tokens.forget(event.user);
    if (event.type === 'user_changed') tokens.forget(event.user, 'changed');
    access.observe(event);
  });
  bus.onResync(() => access.clear());
  return {
    tokens,
    journeys,
    limiter: (name, limit) => bus.limiter(name, limit),
    untilDurable: () => store.untilDurable(),
    accounts: new Accounts(store, tokens, publish, {
      registration: config.registration,
      scryptCost: config.scryptCost,
    }),
    rooms: new Rooms(store, publish, { externalUsers: config.jwksUrl !== undefined }),
    messages: new Messages(
      store,
      access,
      publish,
      (room) => bus.writing(room),
      { maxTextLength: config.maxTextLength },
      deps.onStored,
      journeys,
    ),
  };
}
