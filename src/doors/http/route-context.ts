// What the REST routes are given: the node's parts they answer from. Its own module, so routes
// and the app that registers them do not import each other.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.js';
import type { DoorInfo, SocketInfo } from '../../core/types.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Services } from '../../service/services.js';
import type { AddressCap } from '../address-cap.js';
import type { Cors } from '../cors.js';
import type { RoutePlugin } from '../fastify-app.js';

export interface HttpDoorDeps {
  readonly config: Config;
  /** Open connections per client address, shared with the TCP door. */
  readonly cap: AddressCap;
  readonly services: Services;
  /** Which origins' pages may read answers; the SSE door's stream uses the same. */
  readonly cors: Cors;
  readonly metrics: Metrics;
  readonly logger: FastifyBaseLogger;
  /** Every live socket of every door on this node (GET /v1/sockets). */
  readonly sockets: () => Promise<SocketInfo[]>;
  /** The doors this node listens on (GET /v1/doors). */
  readonly doors: () => DoorInfo[];
  /** Readiness: the store answers and the node is not shutting down. */
  readonly ready: () => Promise<boolean>;
  /** Routes of the other doors HTTP carries (the SSE door's event stream). */
  readonly routes?: readonly RoutePlugin[];
}
