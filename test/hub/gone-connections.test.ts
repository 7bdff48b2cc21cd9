// Connections that are gone stay gone in the hub: one that closes while its subscribe is still
// looking the room up leaves no subscription behind, and a deleted user's connections end (the
// deletion reaches the hub as a bus event), while a connection of theirs that arrives late (its
// token verified just before the deletion) is turned away at attach and at subscribe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Outgoing } from '../../src/hub/outgoing.js';
import type { Subscriber } from '../../src/hub/subscription.js';
import { startServer, userApi } from '../support/server.js';

function fakeConnection(name: string) {
  const sent: Outgoing[] = [];
  const ended: string[] = [];
  const subscriber: Subscriber = {
    actor: { name, admin: false },
    send: (out) => sent.push(out),
    end: (code) => ended.push(code),
  };
  return { subscriber, sent, ended };
}

test('connections of a deleted user end at once, and late ones are turned away at attach and subscribe', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  await userApi(server, 'ghost');
  const early = fakeConnection('ghost');
  server.hub.attach(early.subscriber);
  await server.hub.subscribe(early.subscriber, 'lobby');

  await server.bus.publish({ type: 'user_deleted', user: 'ghost' });
  assert.deepEqual(early.ended, ['token_invalid'], 'the connection that was there ends');
  assert.equal(server.hub.roomsOf(early.subscriber).length, 0);

  const late = fakeConnection('ghost');
  server.hub.attach(late.subscriber);
  assert.deepEqual(late.ended, ['token_invalid'], 'a late attach is refused');
  await assert.rejects(server.hub.subscribe(late.subscriber, 'lobby'), { code: 'token_invalid' });
  // Everyone else is untouched.
  const other = fakeConnection('ada');
  server.hub.attach(other.subscriber);
  await server.hub.subscribe(other.subscriber, 'lobby');
  assert.deepEqual(other.ended, []);
});

test('a connection that closes while its subscribe is under way leaves no subscription or presence behind', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const before = server.hub.stats().subscriptions;
  const gone = fakeConnection('ada');
  const subscribing = server.hub.subscribe(gone.subscriber, 'lobby');
  server.hub.drop(gone.subscriber); // the socket closed while the room was being looked up
  await subscribing;
  assert.equal(server.hub.stats().subscriptions, before);
  assert.deepEqual(server.hub.roomsOf(gone.subscriber), []);
  assert.equal(gone.sent.length, 0, 'nothing is sent to a connection that is gone');
});
