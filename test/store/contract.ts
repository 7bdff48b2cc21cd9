// The promises every Store adapter keeps (src/store/store.ts), as one suite. Each adapter's test
// file calls runStoreContract with a factory; PostgreSQL will run the very same cases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PorthouseError } from '../../src/core/errors.js';
import type { RoomRef, Store } from '../../src/store/store.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  open(): Promise<Store>;
}

const rejectsWith = async (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (err: unknown) => err instanceof PorthouseError && err.code === code);

let counter = 0;
const roomName = () => `room-${++counter}`;

async function withStore(factory: StoreFactory, fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await factory.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

async function makeRoom(store: Store, priv = false): Promise<RoomRef & { version: number }> {
  return store.createRoom({ name: roomName(), title: 'T', topic: '', private: priv, owner: 'owner' });
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} store contract`, () => {
    test('assigns seq 1, 2, 3… per room, without gaps, under hundreds of concurrent appends', async () => {
      await withStore(factory, async (store) => {
        const a = await makeRoom(store);
        const b = await makeRoom(store);
        const appends = [];
        for (let i = 0; i < 300; i++) {
          const room = i % 3 === 0 ? b : a;
          appends.push(store.appendMessage(room, { author: 'u', text: `m${i}`, via: 'http' }));
        }
        const results = await Promise.all(appends);
        const seqsA = results.filter((r) => r.message.room === a.name).map((r) => r.message.seq);
        const seqsB = results.filter((r) => r.message.room === b.name).map((r) => r.message.seq);
        assert.deepEqual(
          [...seqsA].sort((x, y) => x - y),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
        assert.deepEqual(
          [...seqsB].sort((x, y) => x - y),
          Array.from({ length: 100 }, (_, i) => i + 1),
        );
        const history = await store.listMessages(a, { after: 0, limit: 500 });
        assert.deepEqual(
          history.map((m) => m.seq),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
        assert.equal((await store.getRoom(a.name))?.lastSeq, 200);
      });
    });

    test('deleting a user removes every membership and the user, keeps their messages, reserves the name, and refuses an owner', async () => {
      await withStore(factory, async (store) => {
        await store.createUser({ name: 'owner', passwordHash: null, admin: false });
        await store.createUser({ name: 'bob', passwordHash: null, admin: false });
        const a = await makeRoom(store);
        const b = await makeRoom(store, true);
        const c = await makeRoom(store);
        await store.addMember(a, 'bob', 'member');
        await store.addMember(b, 'bob', 'member');
        await store.appendMessage(a, { author: 'bob', text: 'still here', via: 'http' });
        const version = (await store.getRoom(b.name))!.membersVersion;
        assert.equal(await store.getRole(b, 'bob'), 'member'); // cached where the adapter caches

        await rejectsWith(store.deleteUser('owner'), 'user_owns_rooms');
        assert.deepEqual(await store.deleteUser('bob'), { rooms: [a.name, b.name].sort() });
        assert.equal(await store.getUser('bob'), undefined);
        assert.equal(await store.getRole(b, 'bob'), undefined, 'no stale role from a cache');
        assert.deepEqual(
          (await store.listMembers(b)).map((m) => m.user),
          ['owner'],
        );
        assert.ok((await store.getRoom(b.name))!.membersVersion > version, 'the member list changed');
        assert.equal((await store.listMessages(a, { after: 0, limit: 10 }))[0]?.author, 'bob');
        assert.deepEqual(
          (await store.listMembers(c)).map((m) => m.user),
          ['owner'],
        );
        await rejectsWith(store.deleteUser('bob'), 'user_not_found');
        // The name is not given out again: its messages stay under it.
        await rejectsWith(store.createUser({ name: 'bob', passwordHash: null, admin: false }), 'user_exists');
        // A request of theirs still in flight adds nothing: the write itself looks for the user.
        await rejectsWith(store.addMember(c, 'bob', 'member', true), 'user_not_found');
        await rejectsWith(
          store.createRoom({ name: roomName(), title: 'T', topic: '', private: false, owner: 'bob' }, true),
          'user_not_found',
        );
        assert.deepEqual(
          (await store.listMembers(c)).map((m) => m.user),
          ['owner'],
        );
      });
    });

    test('records the door a message came through and returns it as stored', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        const { message, created } = await store.appendMessage(room, {
          author: 'ada',
          text: 'héllo 👋',
          via: 'udp',
        });
        assert.equal(created, true);
        const read = await store.getMessage(room, message.seq);
        assert.deepEqual(read, message);
        assert.equal(read?.via, 'udp');
        assert.equal(read?.text, 'héllo 👋');
      });
    });

    test('an idempotency key returns the first message instead of storing a second', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        const [first, second] = await Promise.all([
          store.appendMessage(room, { author: 'ada', text: 'once', via: 'http', idempotencyKey: 'k' }),
          store.appendMessage(room, { author: 'ada', text: 'once', via: 'http', idempotencyKey: 'k' }),
        ]);
        assert.equal(first.created, true);
        assert.equal(second.created, false);
        assert.deepEqual(second.message, first.message);
        const other = await store.appendMessage(room, {
          author: 'bob',
          text: 'once',
          via: 'http',
          idempotencyKey: 'k',
        });
        assert.equal(other.created, true, 'keys are per author');
        await rejectsWith(
          store.appendMessage(room, { author: 'ada', text: 'different', via: 'http', idempotencyKey: 'k' }),
          'idempotency_key_reused',
        );
        assert.equal((await store.getRoom(room.name))?.lastSeq, 2);
      });
    });

    test('forgets idempotency keys older than the window', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        await store.appendMessage(room, { author: 'ada', text: 'x', via: 'http', idempotencyKey: 'old' });
        assert.equal(await store.pruneIdempotencyKeys(Date.now() + 1000), 1);
        const again = await store.appendMessage(room, {
          author: 'ada',
          text: 'x',
          via: 'http',
          idempotencyKey: 'old',
        });
        assert.equal(again.created, true);
      });
    });

    test('one failing write in a group does not fail the others', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        const gone = { id: 999_999, name: 'gone' };
        const results = await Promise.allSettled([
          store.appendMessage(room, { author: 'u', text: 'a', via: 'http' }),
          store.appendMessage(gone, { author: 'u', text: 'b', via: 'http' }),
          store.createRoom({ name: room.name, title: 't', topic: '', private: false, owner: 'x' }),
          store.appendMessage(room, { author: 'u', text: 'c', via: 'http' }),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
        );
        assert.equal((results[1] as PromiseRejectedResult).reason.code, 'room_not_found');
        assert.equal((results[2] as PromiseRejectedResult).reason.code, 'room_exists');
        const seqs = (await store.listMessages(room, { limit: 10 })).map((m) => m.seq);
        assert.deepEqual(seqs, [1, 2]);
      });
    });

    test('pages history: after, before, both, and the latest page, always ascending', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        for (let i = 0; i < 10; i++)
          await store.appendMessage(room, { author: 'u', text: `${i + 1}`, via: 'http' });
        const seqs = async (q: { after?: number; before?: number; limit: number }) =>
          (await store.listMessages(room, q)).map((m) => m.seq);
        assert.deepEqual(await seqs({ limit: 3 }), [8, 9, 10]);
        assert.deepEqual(await seqs({ after: 2, limit: 3 }), [3, 4, 5]);
        assert.deepEqual(await seqs({ before: 5, limit: 3 }), [2, 3, 4]);
        assert.deepEqual(await seqs({ after: 2, before: 6, limit: 10 }), [3, 4, 5]);
        assert.deepEqual(await seqs({ after: 10, limit: 3 }), []);
        assert.deepEqual(await seqs({ before: 1, limit: 3 }), []);
      });
    });

    test('edits bump the version; deletes leave a tombstone that keeps its seq', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        const { message } = await store.appendMessage(room, { author: 'u', text: 'first', via: 'http' });
        await store.appendMessage(room, { author: 'u', text: 'second', via: 'http' });
        const edited = await store.editMessage(room, 1, 'first, edited', message.version);
        assert.equal(edited.text, 'first, edited');
        assert.equal(edited.version, message.version + 1);
        assert.ok(edited.editedAt);
        await rejectsWith(store.editMessage(room, 1, 'stale', message.version), 'precondition_failed');
        const tomb = await store.deleteMessage(room, 1);
        assert.equal(tomb.deleted, true);
        assert.equal(tomb.text, undefined);
        await rejectsWith(store.editMessage(room, 1, 'undead'), 'message_deleted');
        assert.deepEqual(
          (await store.listMessages(room, { limit: 5 })).map((m) => [m.seq, m.deleted ?? false]),
          [
            [1, true],
            [2, false],
          ],
        );
        const next = await store.appendMessage(room, { author: 'u', text: 'third', via: 'http' });
        assert.equal(next.message.seq, 3, 'a deleted seq is never reused');
        await rejectsWith(store.editMessage(room, 99, 'x'), 'message_not_found');
      });
    });

    test('updatedAt and editedAt only move forward, even with the clock behind (clients order by them)', async () => {
      await withStore(factory, async (store) => {
        const room = await store.createRoom({
          name: roomName(),
          title: 'T',
          topic: '',
          private: false,
          owner: 'o',
        });
        await store.appendMessage(room, { author: 'u', text: 'a', via: 'http' });
        const realNow = Date.now;
        try {
          // A clock stepped back an hour (or another node's, behind this one's).
          Date.now = () => realNow() - 3_600_000;
          const times: string[] = [room.updatedAt];
          let current = room;
          for (const topic of ['one', 'two', 'three']) {
            current = await store.updateRoom(current, { title: current.title, topic, private: false });
            times.push(current.updatedAt);
          }
          const edits: string[] = [];
          for (const text of ['b', 'c', 'd']) edits.push((await store.editMessage(room, 1, text)).editedAt!);
          const increasing = (list: string[]) =>
            list.every((t, i) => i === 0 || Date.parse(t) > Date.parse(list[i - 1]!));
          assert.ok(increasing(times), `room updatedAt ${times.join(' ')}`);
          assert.ok(increasing(edits), `editedAt ${edits.join(' ')}`);
        } finally {
          Date.now = realNow;
        }
      });
    });

    test('every message change bumps the room’s message version (what history ETags hang on)', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        const v0 = (await store.getRoom(room.name))!.messagesVersion;
        await store.appendMessage(room, { author: 'u', text: 'a', via: 'http' });
        const v1 = (await store.getRoom(room.name))!.messagesVersion;
        await store.editMessage(room, 1, 'b');
        const v2 = (await store.getRoom(room.name))!.messagesVersion;
        await store.deleteMessage(room, 1);
        const v3 = (await store.getRoom(room.name))!.messagesVersion;
        assert.ok(v0 < v1 && v1 < v2 && v2 < v3);
      });
    });

    test('rooms: unique names, compare-and-set updates, and a delete that takes everything with it', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store, true);
        await rejectsWith(
          store.createRoom({ name: room.name, title: 'x', topic: '', private: false, owner: 'o' }),
          'room_exists',
        );
        assert.equal(await store.getRole(room, 'owner'), 'owner', 'the creator is the owner member');
        const updated = await store.updateRoom(
          room,
          { title: 'New', topic: 'news', private: false },
          room.version,
        );
        assert.equal(updated.version, room.version + 1);
        assert.equal(updated.title, 'New');
        await rejectsWith(
          store.updateRoom(room, { title: 'Stale', topic: '', private: false }, room.version),
          'precondition_failed',
        );
        await store.appendMessage(room, { author: 'u', text: 'a', via: 'http' });
        await store.deleteRoom(room, updated.version);
        assert.equal(await store.getRoom(room.name), undefined);
        assert.equal(await store.getMessage(room, 1), undefined);
        const again = await store.createRoom({
          name: room.name,
          title: 'T',
          topic: '',
          private: false,
          owner: 'o',
        });
        assert.notEqual(again.id, room.id, 'a re-created room gets a new id, so old ETags cannot match');
        assert.equal(again.lastSeq, 0);
      });
    });

    test('lists public rooms and the private rooms a user belongs to', async () => {
      await withStore(factory, async (store) => {
        const pub = await makeRoom(store, false);
        const priv = await makeRoom(store, true);
        const mine = await makeRoom(store, true);
        await store.addMember(mine, 'ada', 'member');
        const listed = await store.listRooms('ada', false);
        const names = listed.map((r) => r.name);
        assert.ok(names.includes(pub.name) && names.includes(mine.name) && !names.includes(priv.name));
        assert.equal(listed.find((r) => r.name === mine.name)?.role, 'member', "ada's role is given");
        assert.equal(listed.find((r) => r.name === pub.name)?.role, undefined, 'no role where not a member');
        const all = await store.listRooms('owner', true);
        assert.ok(
          all.some((r) => r.name === priv.name),
          'all = every room',
        );
        assert.ok(
          all.every((r) => r.role === 'owner'),
          "the owner's role in each",
        );
      });
    });

    test('members: adding is idempotent, removing reports whether there was one', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        const before = (await store.getRoom(room.name))!.membersVersion;
        const first = await store.addMember(room, 'ada', 'member');
        const second = await store.addMember(room, 'ada', 'member');
        assert.deepEqual([first.created, second.created], [true, false]);
        assert.deepEqual(second.member, first.member);
        assert.deepEqual((await store.listMembers(room)).map((m) => m.user).sort(), ['ada', 'owner']);
        assert.equal(await store.removeMember(room, 'ada'), true);
        assert.equal(await store.removeMember(room, 'ada'), false);
        assert.equal(await store.getMember(room, 'ada'), undefined);
        assert.ok((await store.getRoom(room.name))!.membersVersion > before);
      });
    });

    test('every read sees the write before it, and a failed write changes nothing it reads', async () => {
      await withStore(factory, async (store) => {
        const name = roomName();
        // Read first, so an adapter that remembers "missing" must forget it on create.
        assert.equal(await store.getRoom(name), undefined);
        const room = await store.createRoom({ name, title: 'T', topic: '', private: true, owner: 'o' });
        assert.equal((await store.getRoom(name))?.id, room.id);
        assert.equal(await store.getRole(room, 'ada'), undefined);
        await store.addMember(room, 'ada', 'member');
        assert.equal(await store.getRole(room, 'ada'), 'member');
        await store.appendMessage(room, { author: 'ada', text: 'a', via: 'http' });
        assert.equal((await store.getRoom(name))?.lastSeq, 1);
        await store.updateRoom(room, { title: 'U', topic: 't', private: false });
        assert.equal((await store.getRoom(name))?.title, 'U');
        const seen = await store.getRoom(name);
        await rejectsWith(
          store.updateRoom(room, { title: 'Stale', topic: '', private: false }, room.version),
          'precondition_failed',
        );
        assert.deepEqual(await store.getRoom(name), seen, 'a refused update leaves the room as it was');
        await store.removeMember(room, 'ada');
        assert.equal(await store.getRole(room, 'ada'), undefined);
        await store.deleteRoom(room);
        assert.equal(await store.getRoom(name), undefined);
        assert.equal(await store.getRole(room, 'o'), undefined, 'no role survives its room');
        const again = await store.createRoom({ name, title: 'T', topic: '', private: false, owner: 'z' });
        assert.equal((await store.getRoom(name))?.owner, 'z');
        assert.equal(await store.getRole(again, 'o'), undefined);
        assert.equal(await store.getRole(again, 'z'), 'owner');
      });
    });

    test('once every write has returned, everything committed is durable (untilDurable is undefined)', async () => {
      await withStore(factory, async (store) => {
        const room = await makeRoom(store);
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.appendMessage(room, { author: 'ada', text: `m${i}`, via: 'http' }),
          ),
        );
        assert.equal(store.untilDurable(), undefined);
      });
    });

    test('users: unique names, admin flag, and settings set once', async () => {
      await withStore(factory, async (store) => {
        const u = await store.createUser({ name: 'ada', passwordHash: 'h', admin: false });
        assert.equal(u.admin, false);
        await rejectsWith(store.createUser({ name: 'ada', passwordHash: 'h', admin: false }), 'user_exists');
        await store.setAdmin('ada', true);
        assert.equal((await store.getUser('ada'))?.admin, true);
        await rejectsWith(store.setAdmin('nobody', true), 'user_not_found');
        assert.equal(await store.settingOrInit('k', () => 'first'), 'first');
        assert.equal(await store.settingOrInit('k', () => 'second'), 'first');
      });
    });
  });
}
