// Rooms and their members: create, read, replace, merge-patch, delete, join, invite, leave.
// Every change is stored first and published on the bus after, so hubs only hear durable facts.
import { canAddMember, canManageRoom, canRemoveMember } from '../core/authorize.js';
import { fail } from '../core/errors.js';
import { isUserName } from '../core/names.js';
import type { Actor, Member, RoomRecord } from '../core/types.js';
import { publicRoom } from '../core/types.js';
import type { RoomEvent } from '../bus/bus.js';
import type { RoomFields, Store } from '../store/store.js';
import { type Precondition, type RoomAccess, enforce, visibleRoom } from './access.js';

export interface NewRoom {
  readonly name: string;
  readonly title?: string | undefined;
  readonly topic?: string | undefined;
  readonly private?: boolean | undefined;
}

/** RFC 7396: a member set to null is removed, which for us means "back to its default". */
export interface RoomPatch {
  readonly title?: string | null | undefined;
  readonly topic?: string | null | undefined;
  readonly private?: boolean | null | undefined;
}

export interface RoomsOptions {
  /** When tokens come from an external identity server, users need not exist locally. */
  readonly externalUsers: boolean;
}

export class Rooms {
  constructor(
    private readonly store: Store,
    private readonly publish: (event: RoomEvent) => void,
    private readonly options: RoomsOptions,
  ) {}

  list(actor: Actor): Promise<RoomRecord[]> {
    return this.store.listRooms(actor.name, actor.admin);
  }

  create(actor: Actor, room: NewRoom): Promise<RoomRecord> {
    return this.store.createRoom(
      {
        name: room.name,
        title: room.title ?? room.name,
        topic: room.topic ?? '',
        private: room.private ?? false,
        owner: actor.name,
      },
      !this.options.externalUsers,
    );
  }

  access(actor: Actor, name: string): Promise<RoomAccess> {
    return visibleRoom(this.store, actor, name);
  }

  async replace(
    actor: Actor,
    name: string,
    fields: RoomFields,
    check?: Precondition<RoomRecord>,
  ): Promise<RoomRecord> {
    const { room, facts } = await this.access(actor, name);
    enforce(canManageRoom(actor, facts));
    check?.(room);
    const updated = await this.store.updateRoom(room, fields, check ? room.version : undefined);
    this.publish({ type: 'room_updated', room: name, value: publicRoom(updated) });
    return updated;
  }

  async patch(
    actor: Actor,
    name: string,
    patch: RoomPatch,
    check?: Precondition<RoomRecord>,
  ): Promise<RoomRecord> {
    const { room } = await this.access(actor, name);
    const merged: RoomFields = {
      title: patch.title === null ? room.name : (patch.title ?? room.title),
      topic: patch.topic === null ? '' : (patch.topic ?? room.topic),
      private: patch.private === null ? false : (patch.private ?? room.private),
    };
    // Merge against the version we read: if someone changed it in between, fail rather than
    // silently undo their change.
    return this.replace(actor, name, merged, (current) => {
      if (current.version !== room.version) fail('precondition_failed');
      check?.(current);
    });
  }

  async delete(actor: Actor, name: string, check?: Precondition<RoomRecord>): Promise<void> {
    const { room, facts } = await this.access(actor, name);
    enforce(canManageRoom(actor, facts));
    check?.(room);
    await this.store.deleteRoom(room, check ? room.version : undefined);
    this.publish({ type: 'room_deleted', room: name });
  }

  async members(actor: Actor, name: string): Promise<{ room: RoomRecord; members: Member[] }> {
    const { room } = await this.access(actor, name);
    return { room, members: await this.store.listMembers(room) };
  }

  async member(actor: Actor, name: string, user: string): Promise<{ room: RoomRecord; member: Member }> {
    const { room } = await this.access(actor, name);
    const member = await this.store.getMember(room, user);
    if (!member) fail('member_not_found');
    return { room, member };
  }

  async addMember(
    actor: Actor,
    name: string,
    user: string,
    check?: Precondition<Member | undefined>,
  ): Promise<{ member: Member; created: boolean }> {
    const { room, facts } = await this.access(actor, name);
    enforce(canAddMember(actor, facts, user));
    if (!isUserName(user)) fail('validation_failed', 'The user name does not match the allowed pattern.');
    if (check) check(await this.store.getMember(room, user));
    // Checked inside the write: a user deleted a moment ago is not added (nor, while their
    // request was in flight, do they add themselves).
    const result = await this.store.addMember(room, user, 'member', !this.options.externalUsers);
    if (result.created) this.publish({ type: 'member_joined', room: name, member: result.member });
    return result;
  }

  async removeMember(
    actor: Actor,
    name: string,
    user: string,
    check?: Precondition<Member | undefined>,
  ): Promise<void> {
    const { room, facts } = await this.access(actor, name);
    enforce(canRemoveMember(actor, facts, user));
    if (check) check(await this.store.getMember(room, user));
    if (!(await this.store.removeMember(room, user))) fail('member_not_found');
    this.publish({ type: 'member_left', room: name, user, by: actor.name });
  }
}
