// The event stream's query and headers, declared once: fastify validates them and they appear in
// /openapi.json beside the REST routes.
import { Type } from '@sinclair/typebox';
import { RoomName } from '../../protocol/frames.js';

export const EventsParams = Type.Object({ room: RoomName });

export const EventsQuery = Type.Object(
  {
    since: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Replay every message after this seq first (Last-Event-ID wins when both are sent).',
      }),
    ),
    access_token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 8192,
        description:
          'The bearer token, for EventSource, which cannot set headers. URLs end up in logs and histories: prefer the header where possible.',
      }),
    ),
    lastEventId: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'What EventSource polyfills send on reconnect where they cannot set Last-Event-ID; the same as since.',
      }),
    ),
  },
  // Open: EventSource polyfills and caches add their own parameters (`_=` cache busters), and
  // a 422 would end an EventSource for good; unknown parameters are ignored.
  { additionalProperties: true },
);
export const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,15}$',
      description: 'Sent by a reconnecting EventSource: the last seq it saw.',
    }),
  ),
});
