// The capacity model (bench/capacity.ts) on the measured units: the arithmetic a deployment plan
// rests on, checked where it can be reasoned about without the model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { plan } from '../../bench/capacity.js';

const units = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../bench/capacity-units.json', import.meta.url)), 'utf8'),
);
const base = {
  connections: 1_000_000,
  messages: 100_000,
  rooms: 10_000,
  nodeCores: 2,
  nodeMemoryGB: 24,
  busy: 0.6,
  placement: 'random' as const,
};

test('deliveries are messages times subscribers per room, and node CPU covers them at the busy share', () => {
  const p = plan(units, base);
  assert.equal(p.subscribersPerRoom, 100);
  assert.equal(p.deliveriesPerSecond, 10_000_000);
  const cores = p.nodeCores.deliveries + p.nodeCores.ingest + p.nodeCores.bus;
  assert.ok(p.nodes * base.nodeCores * base.busy >= cores, 'enough nodes for the CPU');
  assert.ok((p.nodes - 1) * base.nodeCores * base.busy < cores, 'and not one more');
});

test('routing a room to the nodes that hold it takes each message from Redis once, not once per node', () => {
  const random = plan(units, base);
  const byRoom = plan(units, { ...base, placement: 'room' });
  assert.ok(
    random.nodesPerRoom > 50,
    `a 100-subscriber room spreads over many nodes (${random.nodesPerRoom})`,
  );
  assert.equal(byRoom.nodesPerRoom, 1);
  assert.equal(byRoom.redisCopiesPerSecond, base.messages);
  assert.ok(byRoom.nodes < random.nodes && byRoom.redisShards < random.redisShards);
});

test('fewer messages per node make smaller group commits, and PostgreSQL pays per commit', () => {
  const big = plan(units, { ...base, placement: 'room' });
  const many = plan(units, base);
  assert.ok(big.messagesPerCommit > many.messagesPerCommit);
  assert.ok(many.postgresCommitsPerSecond <= base.messages, 'never more commits than messages');
  assert.ok(many.postgresCores > big.postgresCores);
  assert.equal(many.postgresBytesPerDay, base.messages * 86_400 * units.postgresBytes);
});
