// One IRC client's side of the door: registration (CAP, NICK, USER, PASS, SASL PLAIN), then
// channels as rooms through the same services and hub as every door. The door hands it whole
// parsed lines and an IrcLink; it never touches a socket.
import { type ErrorCode, ERRORS, PorthouseError } from '../../core/errors.js';
import { Journey, preciseNow } from '../../core/journey.js';
import { ingress } from '../wire-bytes.js';
import type { Actor, MessageRecord, RoomRecord } from '../../core/types.js';
import type { Hub } from '../../hub/hub.js';
import type { Outgoing } from '../../hub/outgoing.js';
import type { Subscriber } from '../../hub/subscription.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { Services } from '../../service/services.js';
import { Turns } from '../../service/turns.js';
import { Allowance } from '../allowance.js';
import { Capabilities } from './capabilities.js';
import { historyTargets, parseChathistory, readHistory } from './chathistory.js';
import {
  REDACTION,
  channelOf,
  deletionLine,
  editLines,
  mask,
  messageLines,
  parseMsgid,
  roomOf,
  userOf,
} from './event-lines.js';
import { type IrcMessage, formatIrcLine } from './irc-message.js';
import { ERR, RPL } from './numerics.js';
import { PlainExchange } from './sasl.js';

/** What the door gives a session: where its lines go and how it ends. */
export interface IrcLink {
  /** Queue bytes for the client; the door coalesces writes and enforces the send buffer limit. */
  write(lines: string | Buffer, journey?: Journey): void;
  /** Send `ERROR :reason` and close. */
  close(reason: string): void;
  /** See Subscriber.drained. */
  drained?(): Promise<void> | undefined;
}

export interface IrcSessionOptions {
  /** The server's name in prefixes and numerics, and the host part of every user's mask. */
  readonly serverName: string;
  readonly network: string;
  /** When the node started: RPL_CREATED. */
  readonly startedAt: string;
  /** Lines of the message of the day; none sends ERR_NOMOTD. */
  readonly motd: readonly string[];
  /** False lifts the per-connection limits (`--rate-limits off`). */
  readonly limits: boolean;
  readonly pubPerSecond: number;
  readonly pubBurst: number;
  readonly typingPerSecond: number;
  /** Most messages one CHATHISTORY returns (ISUPPORT CHATHISTORY). */
  readonly historyLimit: number;
  readonly maxSubscriptions: number;
  /** A password guess spends one of these, shared with REST's log-ins (false: refused). */
  readonly login: () => Promise<boolean> | boolean;
  /** Errors counted by name, for /metrics. */
  readonly onError?: (code: string) => void;
  /** A failure that is a bug or an outage: the client is told only that something failed. */
  readonly onInternal?: (err: unknown, command: string) => void;
}

/** A channel this connection joined, as its client was last told. */
interface Channel {
  readonly room: string;
  topic: string;
  owner: string;
  private: boolean;
  /** Who the client was told is here (NAMES, then JOIN/PART as presence changes); undefined until NAMES. */
  names: Set<string> | undefined;
  /** Seqs this connection posted whose fan-out it has not seen yet: the label of each, and what to tell when it does. */
  readonly own: Map<number, { readonly label: string | undefined; readonly echoed: () => void }>;
}

/** Replies to one command, labelled as one response when the client asked (labeled-response). */
class Reply {
  readonly #lines: string[] = [];
  /** The label went elsewhere (an echo that comes later carries it). */
  #handedOver = false;
  constructor(
    private readonly session: IrcSession,
    readonly label: string | undefined,
  ) {}

  send(line: string): void {
    if (this.label === undefined) this.session.write(line);
    else this.#lines.push(line);
  }

  /** The label is answered later, on another line: this reply sends no ACK for it. */
  handOver(): void {
    this.#handedOver = true;
  }

  end(): void {
    if (this.label === undefined || this.#handedOver) return;
    this.session.labelled(this.label, this.#lines);
  }
}

/** Commands a client may send before it is registered. */
const BEFORE_REGISTRATION = new Set(['CAP', 'NICK', 'USER', 'PASS', 'AUTHENTICATE', 'PING', 'PONG', 'QUIT']);

/** Lines that may wait behind a command still running (a JOIN's store reads); past it: flood. */
export const MAX_QUEUED_LINES = 256;

/** The longest a PONG waits for the echoes of earlier posts (a commit slower than this is not waited for). */
export const ECHO_WAIT_MS = 2000;

/** Resolves once every promise has, or after `ms`. */
function settled(all: readonly Promise<void>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.all(all).then(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** An IRC mask (`*` any run, `?` one character) as a case-insensitive pattern (CASEMAPPING=ascii). */
function globPattern(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

let batchCounter = 0;
const nextBatch = () => (++batchCounter).toString(36);

export class IrcSession implements Subscriber {
  readonly caps = new Capabilities();
  #actor: Actor | undefined;
  /** The nick as the client knows it (`*` until NICK). */
  nick = '*';
  #userGiven = false;
  /** USER's realname, shown in this user's WHO and WHOIS (its username is always the account). */
  #realname = '';
  #pass: string | undefined;
  #sasl: PlainExchange | undefined;
  #saslActor: Actor | undefined;
  #registering = false;
  #closed = false;
  readonly #channels = new Map<string, Channel>();
  /** Rooms being joined: their JOIN line waits for `subbed`, their NAMES for `presence`. */
  readonly #joining = new Map<string, { channel: Channel; reply: Reply; room: RoomRecord }>();
  #queue: Promise<void> = Promise.resolve();
  /** The line being handled: its size and arrival, for a PRIVMSG's journey. */
  #wire = { bytes: 0, at: 0 };
  #queued = 0;
  readonly #turns = new Turns();
  /** Posts of this connection whose own fan-out has not reached it yet: a PONG waits for them. */
  readonly #unechoed = new Set<Promise<void>>();
  readonly #allowance: Allowance;

  constructor(
    private readonly link: IrcLink,
    private readonly services: Services,
    private readonly hub: Hub,
    private readonly options: IrcSessionOptions,
  ) {
    this.#allowance = new Allowance(options);
  }

  get actor(): Actor {
    if (!this.#actor) throw new PorthouseError('unauthorized');
    return this.#actor;
  }

  get registered(): boolean {
    return this.#actor !== undefined;
  }

  get user(): string | undefined {
    return this.#actor?.name;
  }

  rooms(): string[] {
    return [...this.#channels.keys()];
  }

  write(line: string | Buffer, journey?: Journey): void {
    if (!this.#closed) this.link.write(line, journey);
  }

  drained(): Promise<void> | undefined {
    return this.link.drained?.();
  }

  // ---- lines in

  /**
   * One parsed line, and its bytes on the wire (tags and CR LF included). Commands run in order
   * (a PRIVMSG after a JOIN sees the channel joined).
   */
  receive(message: IrcMessage, wireBytes = 0): void {
    const receivedAt = preciseNow();
    this.#enqueue(async () => {
      this.#wire = { bytes: wireBytes, at: receivedAt };
      const reply = new Reply(
        this,
        this.caps.has('labeled-response') ? message.tags.get('label') || undefined : undefined,
      );
      try {
        await this.#dispatch(message, reply);
      } catch (err) {
        this.#failed(err, message.command, reply);
      }
      reply.end();
    });
  }

  #enqueue(run: () => Promise<void> | void): void {
    if (this.#closed) return;
    if (this.#queued >= MAX_QUEUED_LINES) {
      this.#quit('Excess Flood');
      return;
    }
    this.#queued++;
    this.#queue = this.#queue.then(async () => {
      this.#queued--;
      if (!this.#closed) await run();
    });
  }

  /** A line the door could not parse or that was too long: answered in its turn among the rest. */
  refuse(problem: 'input_too_long' | 'invalid_utf8'): void {
    this.options.onError?.(problem);
    this.#enqueue(() => {
      if (problem === 'input_too_long') this.#numeric(undefined, ERR.INPUTTOOLONG, 'Input line was too long');
      else
        this.write(
          formatIrcLine(this.options.serverName, 'FAIL', ['*', 'INVALID_UTF8', 'Lines must be UTF-8.']),
        );
    });
  }

  /** The hub ends the connection (its user was deleted, or rights changed). */
  end(code: ErrorCode, message: string): void {
    this.options.onError?.(code);
    this.#quit(message);
  }

  /** The connection is gone: leave every room. Idempotent. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.drop(this);
  }

  /** Registration did not finish in time. */
  timedOut(): void {
    if (!this.registered) this.#quit('Registration timed out');
  }

  #quit(reason: string): void {
    if (this.#closed) return;
    this.link.close(reason);
    this.closed();
  }

  async #dispatch(m: IrcMessage, r: Reply): Promise<void> {
    const cmd = m.command;
    if (!this.registered && !BEFORE_REGISTRATION.has(cmd)) {
      if (this.#registering) return;
      this.#numeric(r, ERR.NOTREGISTERED, 'You have not registered');
      return;
    }
    switch (cmd) {
      case 'CAP':
        return this.#cap(m, r);
      case 'NICK':
        return this.#nickCommand(m, r);
      case 'USER':
        if (this.registered || this.#userGiven)
          return this.#numeric(r, ERR.ALREADYREGISTERED, 'You may not reregister');
        // An empty username or realname is as good as none (modern.ircdocs.horse, USER).
        if (m.params.length < 4 || m.params[0] === '' || m.params[3] === '') return this.#needMore(r, cmd);
        this.#userGiven = true;
        this.#realname = m.params[3]!;
        return this.#maybeRegister(r);
      case 'PASS':
        if (this.registered) return this.#numeric(r, ERR.ALREADYREGISTERED, 'You may not reregister');
        if (m.params.length < 1) return this.#needMore(r, cmd);
        this.#pass = m.params[0];
        return;
      case 'AUTHENTICATE':
        return this.#authenticate(m, r);
      case 'PING':
        if (m.params.length < 1) return this.#needMore(r, cmd);
        // Clients PING to learn that what they sent before was handled: the PONG comes after
        // the echoes of those posts (each waits for its commit), or after ECHO_WAIT_MS.
        if (this.#unechoed.size > 0) await settled([...this.#unechoed], ECHO_WAIT_MS);
        r.send(
          formatIrcLine(this.options.serverName, 'PONG', [this.options.serverName, m.params[0]!], {
            trailing: true,
          }),
        );
        return;
      case 'PONG':
        return;
      case 'QUIT':
        this.#quit(`Quit: ${m.params[0] ?? ''}`.trim());
        return;
      case 'JOIN':
        return this.#join(m, r);
      case 'PART':
        return this.#part(m, r);
      case 'PRIVMSG':
      case 'NOTICE':
        return this.#privmsg(m, r);
      case 'TAGMSG':
        return this.#tagmsg(m, r);
      case 'TOPIC':
        return this.#topic(m, r);
      case 'NAMES':
        return this.#names(m, r);
      case 'LIST':
        return this.#list(r);
      case 'WHO':
        return this.#who(m, r);
      case 'WHOIS':
        return this.#whois(m, r);
      case 'MODE':
        return this.#mode(m, r);
      case 'KICK':
        return this.#kick(m, r);
      case 'INVITE':
        return this.#invite(m, r);
      case 'AWAY':
        if (m.params[0]) this.#numeric(r, RPL.NOWAWAY, 'You have been marked as being away');
        else this.#numeric(r, RPL.UNAWAY, 'You are no longer marked as being away');
        return;
      case 'CHATHISTORY':
        return this.#chathistory(m, r);
      case 'REDACT':
        return this.#redact(m, r);
      case 'MOTD':
        return this.#motd(r);
      case 'LUSERS':
        return this.#lusers(r);
      case 'TIME':
        return this.#numeric(r, RPL.TIME, this.options.serverName, new Date().toUTCString());
      case 'USERHOST':
        return this.#userhost(m, r);
      default:
        this.options.onError?.('unknown_command');
        this.#numeric(r, ERR.UNKNOWNCOMMAND, cmd, 'Unknown command');
    }
  }

  // ---- registration

  async #cap(m: IrcMessage, r: Reply): Promise<void> {
    const sub = m.params[0]?.toUpperCase();
    const send = (params: string[]) =>
      r.send(formatIrcLine(this.options.serverName, 'CAP', [this.nick, ...params], { trailing: true }));
    switch (sub) {
      case 'LS': {
        const version = Number(m.params[1] ?? 0) || 0;
        for (const line of this.caps.list(version)) send(line);
        return;
      }
      case 'REQ': {
        const { ack, caps } = this.caps.request(m.params[1] ?? '');
        send([ack ? 'ACK' : 'NAK', caps]);
        return;
      }
      case 'LIST':
        send(['LIST', this.caps.enabled()]);
        return;
      case 'END':
        if (this.registered) return;
        this.caps.negotiating = false;
        // Registration ends a SASL exchange still under way (sasl-3.1): aborted, not failed.
        if (this.#sasl) {
          this.#sasl = undefined;
          this.#numeric(r, ERR.SASLABORTED, 'SASL authentication aborted');
        }
        return this.#maybeRegister(r);
      default:
        this.#numeric(r, '410', sub ?? '*', 'Invalid CAP command');
    }
  }

  async #nickCommand(m: IrcMessage, r: Reply): Promise<void> {
    const wanted = m.params[0];
    if (wanted === undefined || wanted === '')
      return this.#numeric(r, ERR.NONICKNAMEGIVEN, 'No nickname given');
    const name = userOf(wanted);
    if (name === undefined) return this.#numeric(r, ERR.ERRONEUSNICKNAME, wanted, 'Erroneous nickname');
    if (!this.registered) {
      this.nick = name;
      return this.#maybeRegister(r);
    }
    if (name === this.actor.name) return;
    // Nicks are account names: another one is someone else's, or nobody's to take.
    const taken = await this.services.accounts.get(name).then(
      () => true,
      () => false,
    );
    if (taken) this.#numeric(r, ERR.NICKNAMEINUSE, wanted, 'Nickname is already in use');
    else this.#numeric(r, ERR.ERRONEUSNICKNAME, wanted, 'Your nick is your account name');
  }

  async #authenticate(m: IrcMessage, r: Reply): Promise<void> {
    const arg = m.params[0];
    if (arg === undefined) return this.#needMore(r, 'AUTHENTICATE');
    if (this.registered || this.#saslActor)
      return this.#numeric(r, ERR.SASLALREADY, 'You have already authenticated using SASL');
    if (arg === '*') {
      this.#sasl = undefined;
      return this.#numeric(r, ERR.SASLABORTED, 'SASL authentication aborted');
    }
    if (!this.#sasl) {
      if (arg.toUpperCase() !== 'PLAIN') {
        this.#numeric(r, RPL.SASLMECHS, 'PLAIN', 'are available SASL mechanisms');
        return this.#numeric(r, ERR.SASLFAIL, 'SASL authentication failed');
      }
      this.#sasl = new PlainExchange();
      r.send('AUTHENTICATE +\r\n');
      return;
    }
    const step = this.#sasl.push(arg);
    if (step.kind === 'more') return;
    if (step.kind === 'discarding' || step.kind === 'too_long') {
      // The rest of a payload refused as too long is not taken for mechanism names.
      if (step.ended) this.#sasl = undefined;
      if (step.kind === 'too_long')
        this.#numeric(r, ERR.SASLFAIL, 'SASL authentication failed: the payload is too long');
      return;
    }
    if (step.kind === 'chunk_too_long') {
      this.#sasl = undefined;
      return this.#numeric(r, ERR.SASLTOOLONG, 'SASL message too long: chunks are at most 400 bytes');
    }
    this.#sasl = undefined;
    if (step.kind === 'invalid') return this.#numeric(r, ERR.SASLFAIL, 'SASL authentication failed');
    const { authzid, authcid, password } = step.credentials;
    const actor = await this.#verify(authcid, password);
    // One may only act as oneself: an authorization identity must be the same account.
    if (!actor || (authzid !== '' && userOf(authzid) !== actor.name)) {
      this.options.onError?.('sasl_failed');
      return this.#numeric(r, ERR.SASLFAIL, 'SASL authentication failed');
    }
    this.#saslActor = actor;
    this.#numeric(
      r,
      RPL.LOGGEDIN,
      mask(actor.name, this.options.serverName),
      actor.name,
      `You are now logged in as ${actor.name}`,
    );
    this.#numeric(r, RPL.SASLSUCCESS, 'SASL authentication successful');
  }

  /**
   * Who `name` and `secret` are: a porthouse bearer token (of that user, or any when no name is
   * given), else the user's password, which spends a log-in of the address's allowance.
   */
  async #verify(name: string | undefined, secret: string): Promise<Actor | undefined> {
    const user = name === undefined || name === '' ? undefined : userOf(name);
    if (name && !user) return undefined;
    if (isToken(secret)) {
      try {
        const actor = await this.services.tokens.verify(secret);
        return user === undefined || user === actor.name ? actor : undefined;
      } catch (err) {
        if (!(err instanceof PorthouseError && ERRORS[err.code].status === 401)) throw err;
        return undefined;
      }
    }
    if (user === undefined) return undefined;
    if (!(await this.options.login())) return undefined;
    try {
      const { token } = await this.services.accounts.login(user, secret);
      return await this.services.tokens.verify(token);
    } catch (err) {
      if (err instanceof PorthouseError && ERRORS[err.code].status === 401) return undefined;
      throw err;
    }
  }

  /** NICK and USER given, capabilities settled: check the credentials and welcome the client. */
  async #maybeRegister(r: Reply): Promise<void> {
    if (
      this.registered ||
      this.#registering ||
      this.nick === '*' ||
      !this.#userGiven ||
      this.caps.negotiating
    )
      return;
    this.#registering = true;
    try {
      let actor = this.#saslActor;
      if (!actor && this.#pass !== undefined) {
        // PASS is a token (its user is who connects), the nick's password, or `name:password`.
        const pass = this.#pass;
        const colon = pass.indexOf(':');
        actor = isToken(pass)
          ? await this.#verify(undefined, pass)
          : colon > 0
            ? await this.#verify(pass.slice(0, colon), pass.slice(colon + 1))
            : await this.#verify(this.nick, pass);
      }
      if (this.#closed) return;
      if (!actor) {
        this.options.onError?.('bad_credentials');
        this.#numeric(
          r,
          ERR.PASSWDMISMATCH,
          'Password incorrect: sign in with SASL PLAIN or PASS (a porthouse token or password)',
        );
        r.end();
        this.#quit('Bad credentials');
        return;
      }
      this.#actor = actor;
      // The connection may have been refused (its user deleted, or at the per-user cap).
      if (this.hub.attach(this)) return;
      const given = this.nick;
      this.nick = actor.name;
      if (given !== actor.name) r.send(`:${mask(given, this.options.serverName)} NICK ${actor.name}\r\n`);
      this.#welcome(r);
    } finally {
      this.#registering = false;
    }
  }

  #welcome(r: Reply): void {
    const o = this.options;
    this.#numeric(r, RPL.WELCOME, `Welcome to the ${o.network} IRC door, ${this.nick}`);
    this.#numeric(r, RPL.YOURHOST, `Your host is ${o.serverName}, running porthouse`);
    this.#numeric(r, RPL.CREATED, `This server was created ${o.startedAt}`);
    r.send(formatIrcLine(o.serverName, RPL.MYINFO, [this.nick, o.serverName, 'porthouse', 'i', 'inst']));
    const tokens = [
      'AWAYLEN=200',
      'CASEMAPPING=ascii',
      `CHANLIMIT=#:${o.maxSubscriptions}`,
      'CHANMODES=b,,,inst',
      'CHANNELLEN=65',
      'CHANTYPES=#',
      `CHATHISTORY=${o.historyLimit}`,
      'ELIST=',
      'MODES=1',
      'MSGREFTYPES=msgid,timestamp',
      `NETWORK=${o.network}`,
      'NICKLEN=32',
      'PREFIX=(o)@',
      'TARGMAX=JOIN:,PART:,PRIVMSG:4,NOTICE:4,TAGMSG:4,NAMES:1,WHOIS:1,KICK:1',
      'TOPICLEN=500',
      'UTF8ONLY',
    ];
    for (let i = 0; i < tokens.length; i += 12)
      r.send(
        formatIrcLine(
          o.serverName,
          RPL.ISUPPORT,
          [this.nick, ...tokens.slice(i, i + 12), 'are supported by this server'],
          { trailing: true },
        ),
      );
    this.#motd(r);
  }

  /** LUSERS, of this node: porthouse has one network of equal nodes, no opers. */
  #lusers(r: Reply): void {
    const { users, connections, rooms } = this.hub.stats();
    this.#numeric(r, RPL.LUSERCLIENT, `There are ${users} users and 0 invisible on 1 servers`);
    this.#numeric(r, RPL.LUSEROP, '0', 'operator(s) online');
    this.#numeric(r, RPL.LUSERCHANNELS, String(rooms), 'channels formed');
    this.#numeric(r, RPL.LUSERME, `I have ${connections} clients and 0 servers`);
    this.#numeric(r, RPL.LOCALUSERS, String(users), String(users), `Current local users ${users}`);
    this.#numeric(r, RPL.GLOBALUSERS, String(users), String(users), `Current global users ${users}`);
  }

  /** USERHOST: up to five nicks that are accounts, as `nick=+nick@host`. */
  async #userhost(m: IrcMessage, r: Reply): Promise<void> {
    if (m.params.length < 1) return this.#needMore(r, 'USERHOST');
    const found: string[] = [];
    for (const nick of m.params.slice(0, 5)) {
      const user = userOf(nick);
      if (user !== undefined && (await this.#exists(user)))
        found.push(`${user}=+${user}@${this.options.serverName}`);
    }
    this.#numeric(r, RPL.USERHOST, found.join(' '));
  }

  #motd(r: Reply): void {
    const o = this.options;
    if (o.motd.length === 0) {
      this.#numeric(r, ERR.NOMOTD, 'MOTD File is missing');
      return;
    }
    this.#numeric(r, RPL.MOTDSTART, `- ${o.serverName} Message of the day - `);
    for (const line of o.motd) this.#numeric(r, RPL.MOTD, `- ${line}`);
    this.#numeric(r, RPL.ENDOFMOTD, 'End of /MOTD command.');
  }

  // ---- channels

  /** The channel's room, or a 403 and undefined. */
  #roomArg(r: Reply, channel: string | undefined): string | undefined {
    if (channel === undefined) return undefined;
    const room = roomOf(channel);
    if (room === undefined) this.#numeric(r, ERR.NOSUCHCHANNEL, channel, 'No such channel');
    return room;
  }

  async #join(m: IrcMessage, r: Reply): Promise<void> {
    const list = m.params[0];
    if (list === undefined) return this.#needMore(r, 'JOIN');
    // JOIN 0 leaves every channel (RFC 2812 § 3.2.1).
    if (list === '0') {
      for (const room of [...this.#channels.keys()]) await this.#leave(room, 'Left all channels', r);
      return;
    }
    for (const channel of list.split(',')) {
      if (channel === '') continue;
      const name = this.#roomArg(r, channel);
      if (name === undefined || this.#channels.has(name)) continue;
      if (this.#channels.size >= this.options.maxSubscriptions) {
        this.#numeric(r, ERR.TOOMANYCHANNELS, channel, 'You have joined too many channels');
        continue;
      }
      try {
        await this.#joinOne(name, r);
      } catch (err) {
        this.#joinFailed(err, channel, r);
      }
    }
  }

  async #joinOne(name: string, r: Reply): Promise<void> {
    const actor = this.actor;
    let room: RoomRecord;
    try {
      room = (await this.services.rooms.access(actor, name)).room;
    } catch (err) {
      if (!(err instanceof PorthouseError && err.code === 'room_not_found')) throw err;
      // A channel that does not exist is made by its first JOIN, as on any IRC server: the
      // joiner owns the room. One that exists but is hidden (private) is invite-only.
      try {
        room = await this.services.rooms.create(actor, { name });
      } catch (again) {
        if (again instanceof PorthouseError && again.code === 'room_exists')
          throw new PorthouseError('not_a_member');
        throw again;
      }
    }
    const channel: Channel = {
      room: name,
      topic: room.topic,
      owner: room.owner,
      private: room.private,
      names: undefined,
      own: new Map(),
    };
    // Joining before becoming a member, so the member_joined this JOIN causes is not an invitation.
    this.#joining.set(name, { channel, reply: r, room });
    try {
      if (room.role === undefined) await this.services.rooms.addMember(actor, name, actor.name);
      await this.hub.subscribe(this, name);
    } finally {
      this.#joining.delete(name);
    }
  }

  #joinFailed(err: unknown, channel: string, r: Reply): void {
    if (!(err instanceof PorthouseError)) throw err;
    switch (err.code) {
      case 'not_a_member':
      case 'forbidden':
      case 'room_not_found':
        this.#numeric(
          r,
          ERR.INVITEONLYCHAN,
          channel,
          'Cannot join channel (+i): the room is private; ask a member to invite you',
        );
        return;
      case 'too_many_subscriptions':
        this.#numeric(r, ERR.TOOMANYCHANNELS, channel, 'You have joined too many channels');
        return;
      default:
        this.#fail(r, 'JOIN', err.code, err.message, channel);
    }
  }

  async #part(m: IrcMessage, r: Reply): Promise<void> {
    const list = m.params[0];
    if (list === undefined) return this.#needMore(r, 'PART');
    for (const channel of list.split(',')) {
      const room = this.#roomArg(r, channel);
      if (room === undefined) continue;
      if (!this.#channels.has(room)) {
        this.#numeric(r, ERR.NOTONCHANNEL, channel, "You're not on that channel");
        continue;
      }
      await this.#leave(room, m.params[1] ?? '', r);
    }
  }

  /** PART: out of the room's live events and its members (its owner stays its owner). */
  async #leave(room: string, reason: string, r: Reply): Promise<void> {
    this.hub.unsubscribe(this, room);
    for (const { echoed } of this.#channels.get(room)?.own.values() ?? []) echoed();
    this.#channels.delete(room);
    r.send(
      formatIrcLine(
        mask(this.nick, this.options.serverName),
        'PART',
        reason === '' ? [channelOf(room)] : [channelOf(room), reason],
        { trailing: reason !== '' },
      ),
    );
    try {
      await this.services.rooms.removeMember(this.actor, room, this.actor.name);
    } catch (err) {
      if (!(err instanceof PorthouseError)) throw err;
      // The owner, or someone already removed: nothing more to leave.
    }
  }

  #privmsg(m: IrcMessage, r: Reply): void {
    const notice = m.command === 'NOTICE';
    // A NOTICE is never answered with an error (RFC 1459 § 4.4.2).
    const refuse = (code: string, ...params: string[]) => {
      if (!notice) this.#numeric(r, code, ...params);
    };
    const [targets, text] = m.params;
    if (targets === undefined || targets === '') {
      refuse(ERR.NORECIPIENT, `No recipient given (${m.command})`);
      return;
    }
    if (text === undefined || text === '') {
      refuse(ERR.NOTEXTTOSEND, 'No text to send');
      return;
    }
    for (const target of targets.split(',').slice(0, 4)) {
      if (!target.startsWith('#')) {
        refuse(
          ERR.NOSUCHNICK,
          target,
          'porthouse has rooms, not direct messages: invite them to a private room',
        );
        continue;
      }
      const room = roomOf(target);
      const channel = room === undefined ? undefined : this.#channels.get(room);
      if (room === undefined) {
        refuse(ERR.NOSUCHCHANNEL, target, 'No such channel');
        continue;
      }
      if (!channel) {
        refuse(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel: join it first');
        continue;
      }
      let body = text;
      if (body.startsWith('\x01')) {
        // CTCP: ACTION is `/me`, as every other door writes it; other requests are not stored.
        const action = CTCP_ACTION.exec(body);
        if (!action) continue;
        body = `/me ${action[1]}`;
      }
      this.#post(channel, body, notice, r);
    }
  }

  /** Store one message: in arrival order, acknowledged by its own echo (or by nothing). */
  #post(channel: Channel, text: string, notice: boolean, r: Reply): void {
    const actor = this.actor;
    const fail = (err: unknown) => {
      if (notice) return;
      if (err instanceof PorthouseError) {
        this.options.onError?.(err.code);
        this.#numeric(
          undefined,
          ERR.CANNOTSENDTOCHAN,
          channelOf(channel.room),
          `Cannot send to channel: ${err.message}`,
        );
      } else {
        this.options.onInternal?.(err, 'PRIVMSG');
        this.#fail(undefined, 'PRIVMSG', 'internal', ERRORS.internal.title);
      }
    };
    try {
      const refused = this.#allowance.pub();
      if (refused)
        throw new PorthouseError('rate_limited', `slow down; try again in ${refused.retryAfter} s`);
      this.services.messages.checkText(text);
    } catch (err) {
      fail(err);
      return;
    }
    const label = r.label;
    const echo = this.caps.has('echo-message');
    // The label travels with the echo; without echo-message the reply's ACK answers it.
    if (label !== undefined && echo) r.handOver();
    const journey = this.services.journeys.enabled
      ? new Journey(
          channel.room,
          ingress('irc', this.#wire.bytes, 'IRC line: tags, PRIVMSG, channel, text, CR LF', this.#wire.at),
        )
      : undefined;
    let echoed!: () => void;
    const unechoed = new Promise<void>((resolve) => {
      echoed = resolve;
    });
    this.#unechoed.add(unechoed);
    void unechoed.then(() => this.#unechoed.delete(unechoed));
    const posting = this.services.messages.post(actor, channel.room, text, 'irc', {
      turn: this.#turns.take(),
      journey,
      acknowledge: (message) => {
        // Remembered until the message's own fan-out reaches this connection: the echo (with
        // the label), or nothing for a client without echo-message.
        if (this.#channels.get(channel.room) === channel)
          channel.own.set(message.seq, { label: echo ? label : undefined, echoed });
        else echoed();
      },
    });
    posting.catch((err: unknown) => {
      echoed();
      fail(err);
    });
  }

  async #tagmsg(m: IrcMessage, r: Reply): Promise<void> {
    const target = m.params[0];
    if (target === undefined) return this.#needMore(r, 'TAGMSG');
    const typing = m.tags.get('+typing') ?? m.tags.get('+draft/typing');
    const room = roomOf(target);
    if (typing !== 'active' || room === undefined || !this.#channels.has(room)) return;
    if (this.#allowance.typing()) return;
    await this.services.messages.typing(this.actor, room);
  }

  async #topic(m: IrcMessage, r: Reply): Promise<void> {
    const channel = m.params[0];
    if (channel === undefined) return this.#needMore(r, 'TOPIC');
    const name = this.#roomArg(r, channel);
    if (name === undefined) return;
    const topic = m.params[1];
    try {
      if (topic === undefined) {
        const { room } = await this.services.rooms.access(this.actor, name);
        return this.#topicLines(r, room, true);
      }
      if (!this.#channels.has(name))
        return this.#numeric(r, ERR.NOTONCHANNEL, channel, "You're not on that channel");
      // The change comes back to every door, this connection included, as room_updated.
      await this.services.rooms.patch(this.actor, name, { topic });
    } catch (err) {
      if (err instanceof PorthouseError && err.code === 'room_not_found')
        return this.#numeric(r, ERR.NOSUCHCHANNEL, channel, 'No such channel');
      if (err instanceof PorthouseError && err.code === 'forbidden')
        return this.#numeric(
          r,
          ERR.CHANOPRIVSNEEDED,
          channel,
          "You're not channel operator: only the room's owner sets its topic",
        );
      if (err instanceof PorthouseError && err.code === 'validation_failed')
        return this.#fail(r, 'TOPIC', err.code, err.message, channel);
      throw err;
    }
  }

  #topicLines(r: Reply, room: RoomRecord, askedFor: boolean): void {
    const channel = channelOf(room.name);
    if (room.topic === '') {
      if (askedFor) this.#numeric(r, RPL.NOTOPIC, channel, 'No topic is set');
      return;
    }
    this.#numeric(r, RPL.TOPIC, channel, room.topic);
    const setAt = Math.floor(Date.parse(room.updatedAt) / 1000);
    r.send(
      formatIrcLine(this.options.serverName, RPL.TOPICWHOTIME, [
        this.nick,
        channel,
        room.owner,
        String(setAt),
      ]),
    );
  }

  async #names(m: IrcMessage, r: Reply): Promise<void> {
    const channel = m.params[0];
    if (channel === undefined) return this.#numeric(r, RPL.ENDOFNAMES, '*', 'End of /NAMES list');
    const room = roomOf(channel.split(',')[0]!);
    const joined = room === undefined ? undefined : this.#channels.get(room);
    if (joined?.names) this.#namesLines(r, joined);
    else this.#numeric(r, RPL.ENDOFNAMES, channel, 'End of /NAMES list');
  }

  #namesLines(r: Reply, channel: Channel): void {
    const name = channelOf(channel.room);
    const host = this.options.serverName;
    const full = this.caps.has('userhost-in-names');
    const entries = [...(channel.names ?? [])]
      .sort()
      .map((u) => `${u === channel.owner ? '@' : ''}${full ? mask(u, host) : u}`);
    const head = `:${host} ${RPL.NAMREPLY} ${this.nick} ${channel.private ? '@' : '='} ${name} :`;
    let line = '';
    for (const e of entries) {
      if (line !== '' && head.length + line.length + e.length + 3 > 510) {
        r.send(`${head}${line}\r\n`);
        line = '';
      }
      line = line === '' ? e : `${line} ${e}`;
    }
    if (line !== '') r.send(`${head}${line}\r\n`);
    this.#numeric(r, RPL.ENDOFNAMES, name, 'End of /NAMES list');
  }

  async #list(r: Reply): Promise<void> {
    const rooms = await this.services.rooms.list(this.actor);
    this.#numeric(r, RPL.LISTSTART, 'Channel', 'Users  Name');
    for (const room of rooms) {
      const here = this.#channels.get(room.name)?.names?.size ?? 0;
      this.#numeric(r, RPL.LIST, channelOf(room.name), String(here), room.topic);
    }
    this.#numeric(r, RPL.LISTEND, 'End of /LIST');
  }

  async #who(m: IrcMessage, r: Reply): Promise<void> {
    const mask0 = m.params[0] ?? '*';
    const host = this.options.serverName;
    const line = (channel: string, user: string, op: boolean) =>
      r.send(
        formatIrcLine(
          host,
          RPL.WHOREPLY,
          [this.nick, channel, user, host, host, user, op ? 'H@' : 'H', `0 ${this.#realnameOf(user)}`],
          { trailing: true },
        ),
      );
    const room = roomOf(mask0);
    const joined = room === undefined ? undefined : this.#channels.get(room);
    if (joined) for (const u of [...(joined.names ?? [])].sort()) line(mask0, u, u === joined.owner);
    else if (room === undefined && (mask0 === '0' || /[*?]/.test(mask0))) {
      // A mask: the users this client can see (itself and who shares its channels), by nick or mask.
      const pattern = globPattern(mask0 === '0' ? '*' : mask0);
      const visible = new Set([this.actor.name]);
      for (const c of this.#channels.values()) for (const u of c.names ?? []) visible.add(u);
      for (const u of [...visible].sort())
        if (pattern.test(u) || pattern.test(mask(u, host))) line('*', u, false);
    } else if (room === undefined) {
      const user = userOf(mask0);
      if (user !== undefined && (await this.#exists(user))) line('*', user, false);
    }
    this.#numeric(r, RPL.ENDOFWHO, mask0, 'End of /WHO list');
  }

  /** A realname is known only for this connection's own user; others are shown by their name. */
  #realnameOf(user: string): string {
    return user === this.user && this.#realname !== '' ? this.#realname : user;
  }

  async #exists(user: string): Promise<boolean> {
    try {
      await this.services.accounts.get(user);
      return true;
    } catch (err) {
      if (err instanceof PorthouseError && err.code === 'user_not_found') return false;
      throw err;
    }
  }

  async #whois(m: IrcMessage, r: Reply): Promise<void> {
    // WHOIS [server] nick
    const nick = m.params[m.params.length - 1];
    if (nick === undefined) return this.#numeric(r, ERR.NONICKNAMEGIVEN, 'No nickname given');
    const user = userOf(nick);
    const host = this.options.serverName;
    if (user === undefined || !(await this.#exists(user))) {
      this.#numeric(r, ERR.NOSUCHNICK, nick, 'No such nick/channel');
      return this.#numeric(r, RPL.ENDOFWHOIS, nick, 'End of /WHOIS list');
    }
    r.send(
      formatIrcLine(host, RPL.WHOISUSER, [this.nick, user, user, host, '*', this.#realnameOf(user)], {
        trailing: true,
      }),
    );
    const shared = [...this.#channels.values()]
      .filter((c) => c.names?.has(user))
      .map((c) => `${c.owner === user ? '@' : ''}${channelOf(c.room)}`);
    if (shared.length > 0) this.#numeric(r, RPL.WHOISCHANNELS, user, shared.join(' '));
    this.#numeric(r, RPL.WHOISSERVER, user, host, this.options.network);
    this.#numeric(r, RPL.WHOISACCOUNT, user, user, 'is logged in as');
    this.#numeric(r, RPL.ENDOFWHOIS, user, 'End of /WHOIS list');
  }

  async #mode(m: IrcMessage, r: Reply): Promise<void> {
    const target = m.params[0];
    if (target === undefined) return this.#needMore(r, 'MODE');
    if (!target.startsWith('#')) {
      if (userOf(target) !== this.actor.name)
        return this.#numeric(r, ERR.USERSDONTMATCH, "Can't change mode for other users");
      if (m.params[1] !== undefined && !/^[+-]i*$/.test(m.params[1]))
        return this.#numeric(r, ERR.UMODEUNKNOWNFLAG, 'Unknown MODE flag');
      return this.#numeric(r, RPL.UMODEIS, '+i');
    }
    const name = this.#roomArg(r, target);
    if (name === undefined) return;
    const change = m.params[1];
    let room: RoomRecord;
    try {
      room = (await this.services.rooms.access(this.actor, name)).room;
    } catch (err) {
      if (err instanceof PorthouseError && err.code === 'room_not_found')
        return this.#numeric(r, ERR.NOSUCHCHANNEL, target, 'No such channel');
      throw err;
    }
    if (change === undefined) {
      r.send(
        formatIrcLine(this.options.serverName, RPL.CHANNELMODEIS, [
          this.nick,
          target,
          room.private ? '+inst' : '+nt',
        ]),
      );
      r.send(
        formatIrcLine(this.options.serverName, RPL.CREATIONTIME, [
          this.nick,
          target,
          String(Math.floor(Date.parse(room.createdAt) / 1000)),
        ]),
      );
      return;
    }
    // A ban list query (every client asks on join): porthouse has no bans, only members.
    if (/^[+-]?b$/.test(change) && m.params[2] === undefined)
      return this.#numeric(r, RPL.ENDOFBANLIST, target, 'End of channel ban list');
    // +i / +s make the room private, -i / -s public: the only modes with a meaning here. Every
    // room is +n and +t already (only members post, only the owner sets the topic).
    const set = /^([+-])([inst]+)$/.exec(change);
    if (!set || (set[1] === '-' && /[nt]/.test(set[2]!))) {
      const letter = change.replace(/^[+-]/, '')[0] ?? change;
      return this.#numeric(
        r,
        ERR.UNKNOWNMODE,
        letter,
        'is unknown mode char to me: only +i/+s (a private room) change here',
      );
    }
    if (!/[is]/.test(set[2]!)) return;
    try {
      await this.services.rooms.patch(this.actor, name, { private: set[1] === '+' });
    } catch (err) {
      if (err instanceof PorthouseError && err.code === 'forbidden')
        return this.#numeric(
          r,
          ERR.CHANOPRIVSNEEDED,
          target,
          "You're not channel operator: only the room's owner changes it",
        );
      throw err;
    }
  }

  async #kick(m: IrcMessage, r: Reply): Promise<void> {
    const [channel, nick, reason] = m.params;
    if (channel === undefined || nick === undefined) return this.#needMore(r, 'KICK');
    const name = this.#roomArg(r, channel);
    if (name === undefined) return;
    const user = userOf(nick);
    if (user === undefined) return this.#numeric(r, ERR.NOSUCHNICK, nick, 'No such nick/channel');
    try {
      await this.services.rooms.removeMember(this.actor, name, user);
    } catch (err) {
      if (!(err instanceof PorthouseError)) throw err;
      if (err.code === 'room_not_found')
        return this.#numeric(r, ERR.NOSUCHCHANNEL, channel, 'No such channel');
      if (err.code === 'member_not_found')
        return this.#numeric(r, ERR.USERNOTINCHANNEL, nick, channel, "They aren't on that channel");
      if (err.code === 'forbidden' || err.code === 'owner_cannot_leave')
        return this.#numeric(r, ERR.CHANOPRIVSNEEDED, channel, `You're not channel operator: ${err.message}`);
      throw err;
    }
    r.send(
      formatIrcLine(mask(this.nick, this.options.serverName), 'KICK', [channel, user, reason ?? this.nick], {
        trailing: true,
      }),
    );
  }

  async #invite(m: IrcMessage, r: Reply): Promise<void> {
    const [nick, channel] = m.params;
    if (nick === undefined || channel === undefined) return this.#needMore(r, 'INVITE');
    const name = this.#roomArg(r, channel);
    const user = userOf(nick);
    if (name === undefined) return;
    if (user === undefined) return this.#numeric(r, ERR.NOSUCHNICK, nick, 'No such nick/channel');
    try {
      const { created } = await this.services.rooms.addMember(this.actor, name, user);
      if (!created) return this.#numeric(r, ERR.USERONCHANNEL, user, channel, 'is already a member');
    } catch (err) {
      if (!(err instanceof PorthouseError)) throw err;
      if (err.code === 'room_not_found')
        return this.#numeric(r, ERR.NOSUCHCHANNEL, channel, 'No such channel');
      if (err.code === 'user_not_found')
        return this.#numeric(r, ERR.NOSUCHNICK, nick, 'No such nick/channel');
      if (err.code === 'not_a_member')
        return this.#numeric(r, ERR.NOTONCHANNEL, channel, "You're not on that channel");
      throw err;
    }
    this.#numeric(r, RPL.INVITING, user, channel);
  }

  async #chathistory(m: IrcMessage, r: Reply): Promise<void> {
    const parsed = parseChathistory(m.params, this.options.historyLimit);
    if (!parsed.ok)
      return this.#fail(r, 'CHATHISTORY', parsed.code, parsed.message, ...(m.params[0] ? [m.params[0]] : []));
    const request = parsed.request;
    const host = this.options.serverName;
    const batch = this.caps.has('batch') ? nextBatch() : undefined;
    if (request.sub === 'TARGETS') {
      const found = await historyTargets(this.services, this.actor, request.from, request.to, request.limit);
      if (batch) r.send(`:${host} BATCH +${batch} draft/chathistory-targets\r\n`);
      const tag = batch ? `@batch=${batch} ` : '';
      for (const t of found) r.send(`${tag}:${host} CHATHISTORY TARGETS ${channelOf(t.room)} ${t.time}\r\n`);
      if (batch) r.send(`:${host} BATCH -${batch}\r\n`);
      return;
    }
    let page: MessageRecord[] | undefined = [];
    // Direct messages do not exist: a nick's history is empty.
    if (request.target.startsWith('#')) {
      if (request.room === undefined)
        return this.#fail(r, 'CHATHISTORY', 'INVALID_TARGET', 'No such channel', request.sub, request.target);
      try {
        const { room } = await this.services.rooms.access(this.actor, request.room);
        page = await readHistory(this.services, room, request);
      } catch (err) {
        if (err instanceof PorthouseError && err.code === 'room_not_found')
          return this.#fail(
            r,
            'CHATHISTORY',
            'INVALID_TARGET',
            'Messages could not be retrieved',
            request.sub,
            request.target,
          );
        throw err;
      }
      if (!page)
        return this.#fail(
          r,
          'CHATHISTORY',
          'INVALID_MSGREFTYPE',
          'That msgid names another channel',
          request.sub,
          request.target,
        );
    }
    if (batch) r.send(`:${host} BATCH +${batch} chathistory ${request.target}\r\n`);
    const variant = this.#variant();
    for (const msg of page) r.send(messageLines(msg, variant, host, batch ? `batch=${batch}` : ''));
    if (batch) r.send(`:${host} BATCH -${batch}\r\n`);
  }

  async #redact(m: IrcMessage, r: Reply): Promise<void> {
    const [target, msgid] = m.params;
    if (target === undefined || msgid === undefined) return this.#needMore(r, 'REDACT');
    const room = roomOf(target);
    const id = parseMsgid(msgid);
    if (room === undefined) return this.#fail(r, 'REDACT', 'INVALID_TARGET', 'No such channel', target);
    if (!id || id.room !== room)
      return this.#fail(r, 'REDACT', 'UNKNOWN_MSGID', 'No such message', target, msgid);
    try {
      await this.services.messages.delete(this.actor, room, id.seq);
    } catch (err) {
      if (!(err instanceof PorthouseError)) throw err;
      if (err.code === 'room_not_found')
        return this.#fail(r, 'REDACT', 'INVALID_TARGET', 'No such channel', target);
      if (err.code === 'message_not_found')
        return this.#fail(r, 'REDACT', 'UNKNOWN_MSGID', 'No such message', target, msgid);
      if (err.code === 'forbidden')
        return this.#fail(
          r,
          'REDACT',
          'REDACT_FORBIDDEN',
          "Only the author or the room's owner may delete it",
          target,
          msgid,
        );
      throw err;
    }
  }

  // ---- events out

  /** The line variant this client takes: which tags, and whether it understands REDACT. */
  #variant(): number {
    return this.caps.wire | (this.caps.has('draft/message-redaction') ? REDACTION : 0);
  }

  /** A frame from the hub, as the lines an IRC client expects. */
  send(out: Outgoing): void {
    if (this.#closed) return;
    const f = out.frame;
    const host = this.options.serverName;
    switch (f.type) {
      case 'msg': {
        const channel = this.#channels.get(f.room);
        if (!channel) return;
        const own = channel.own.get(f.seq);
        if (own) {
          channel.own.delete(f.seq);
          own.echoed();
          if (!this.caps.has('echo-message')) return;
          if (own.label !== undefined) {
            this.write(messageLines(f, this.#variant(), host, `label=${own.label}`), out.journey);
            return;
          }
        }
        const variant = this.#variant();
        this.write(
          out.encoded(`irc${variant}`, () => Buffer.from(messageLines(f, variant, host))),
          out.journey,
        );
        return;
      }
      case 'edit': {
        if (!this.#channels.has(f.room)) return;
        const variant = this.#variant();
        this.write(out.encoded(`irc${variant}`, () => Buffer.from(editLines(f, variant, host))));
        return;
      }
      case 'del': {
        if (!this.#channels.has(f.room)) return;
        const variant = this.#variant() & REDACTION;
        this.write(
          out.encoded(`irc${variant}`, () =>
            Buffer.from(deletionLine(f.room, f.seq, variant, host, 'by' in f ? f.by : undefined)),
          ),
        );
        return;
      }
      case 'subbed':
        this.#subbed(f.room);
        return;
      case 'presence':
        this.#presence(f.room, f.online);
        return;
      case 'typing':
        if (this.caps.has('message-tags') && this.#channels.has(f.room))
          this.write(`@+typing=active :${mask(f.user, host)} TAGMSG ${channelOf(f.room)}\r\n`);
        return;
      case 'member_joined':
        // The hub tells an attached connection of rooms its user is added to: an invitation.
        if (f.user === this.user && !this.#channels.has(f.room) && !this.#joining.has(f.room))
          this.write(`:${host} INVITE ${this.nick} ${channelOf(f.room)}\r\n`);
        return;
      case 'member_left':
        if (f.user === this.user)
          this.#removed(
            f.room,
            f.by === this.user ? 'You left the room' : 'You were removed from the room',
            f.by,
          );
        return;
      case 'room_updated':
        this.#roomUpdated(f);
        return;
      case 'room_deleted':
        this.#removed(f.room, 'The room was deleted');
        return;
      case 'unsubbed':
        this.#removed(f.room, 'You may no longer see this room');
        return;
      case 'error':
        this.write(
          formatIrcLine(host, 'NOTICE', [f.room ? channelOf(f.room) : this.nick, `${f.code}: ${f.message}`]),
        );
        return;
      default:
        return;
    }
  }

  #subbed(room: string): void {
    const joining = this.#joining.get(room);
    if (!joining) return;
    const { channel, reply } = joining;
    this.#channels.set(room, channel);
    reply.send(`:${mask(this.nick, this.options.serverName)} JOIN ${channelOf(room)}\r\n`);
    this.#topicLines(reply, joining.room, false);
  }

  #presence(room: string, online: readonly string[]): void {
    const channel = this.#channels.get(room);
    if (!channel) return;
    if (channel.names === undefined) {
      channel.names = new Set(online);
      // The first presence of a JOIN is its NAMES, part of its reply.
      this.#namesLines(this.#joining.get(room)?.reply ?? new Reply(this, undefined), channel);
      return;
    }
    const now = new Set(online);
    const host = this.options.serverName;
    let lines = '';
    for (const u of now)
      if (!channel.names.has(u) && u !== this.user) lines += `:${mask(u, host)} JOIN ${channelOf(room)}\r\n`;
    for (const u of channel.names)
      if (!now.has(u) && u !== this.user) lines += `:${mask(u, host)} PART ${channelOf(room)}\r\n`;
    channel.names = now;
    if (lines !== '') this.write(lines);
  }

  #roomUpdated(f: Extract<ServerFrame, { type: 'room_updated' }>): void {
    const channel = this.#channels.get(f.room);
    if (!channel) return;
    const host = this.options.serverName;
    if (typeof f.topic === 'string' && f.topic !== channel.topic) {
      channel.topic = f.topic;
      this.write(formatIrcLine(host, 'TOPIC', [channelOf(f.room), f.topic], { trailing: true }));
    }
    if (typeof f.private === 'boolean' && f.private !== channel.private) {
      channel.private = f.private;
      this.write(`:${host} MODE ${channelOf(f.room)} ${f.private ? '+is' : '-is'}\r\n`);
    }
  }

  /** The room is gone for this connection: the client sees itself kicked, and it is unsubscribed. */
  /** Out of a channel the client did not PART here: a KICK from who removed them, or a PART of their own elsewhere. */
  #removed(room: string, reason: string, by?: string): void {
    const channel = this.#channels.get(room);
    if (!channel) return;
    this.#channels.delete(room);
    for (const { echoed } of channel.own.values()) echoed();
    this.hub.unsubscribe(this, room);
    const host = this.options.serverName;
    this.write(
      by === this.user
        ? formatIrcLine(mask(this.nick, host), 'PART', [channelOf(room), reason], { trailing: true })
        : formatIrcLine(by ? mask(by, host) : host, 'KICK', [channelOf(room), this.nick, reason], {
            trailing: true,
          }),
    );
  }

  // ---- replies

  /** A labelled response: ACK for none, the label on a lone line (or a batch), else a batch. */
  labelled(label: string, lines: readonly string[]): void {
    const host = this.options.serverName;
    const tag = `label=${label}`;
    if (lines.length === 0) {
      this.write(`@${tag} :${host} ACK\r\n`);
      return;
    }
    const all = lines.join('');
    const count = all.split('\r\n').length - 1;
    if (
      count === 1 ||
      (lines[0]!.startsWith(`:${host} BATCH +`) &&
        count === lines.length &&
        lines.at(-1)!.startsWith(`:${host} BATCH -`))
    ) {
      this.write(addTag(lines[0]!, tag) + lines.slice(1).join(''));
      return;
    }
    if (!this.caps.has('batch')) {
      this.write(all);
      return;
    }
    const id = nextBatch();
    let out = `@${tag} :${host} BATCH +${id} labeled-response\r\n`;
    for (const line of all.split('\r\n')) if (line !== '') out += `${addTag(line, `batch=${id}`)}\r\n`;
    this.write(`${out}:${host} BATCH -${id}\r\n`);
  }

  #numeric(r: Reply | undefined, code: string, ...params: string[]): void {
    const line = formatIrcLine(this.options.serverName, code, [this.nick, ...params], { trailing: true });
    if (r) r.send(line);
    else this.write(line);
  }

  #needMore(r: Reply, command: string): void {
    this.options.onError?.('need_more_params');
    this.#numeric(r, ERR.NEEDMOREPARAMS, command, 'Not enough parameters');
  }

  /** A standard reply: `FAIL <command> <CODE> [context…] :message`. */
  #fail(r: Reply | undefined, command: string, code: string, message: string, ...context: string[]): void {
    const line = formatIrcLine(
      this.options.serverName,
      'FAIL',
      [command, code.toUpperCase(), ...context, message],
      { trailing: true },
    );
    if (r) r.send(line);
    else this.write(line);
  }

  #failed(err: unknown, command: string, r: Reply): void {
    if (err instanceof PorthouseError) {
      this.options.onError?.(err.code);
      this.#fail(r, command, err.code, err.message);
      return;
    }
    this.options.onInternal?.(err, command);
    this.options.onError?.('internal');
    this.#fail(r, command, 'internal', ERRORS.internal.title);
  }
}

/** A CTCP ACTION (`/me`): \x01ACTION text\x01, the closing \x01 optional as clients vary. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: CTCP is framed by \x01 bytes.
const CTCP_ACTION = /^\x01ACTION (.*?)\x01?$/s;

/** A bearer token (a JWT: three base64url parts) rather than a password. */
const isToken = (secret: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(secret);

/** `line` with one more tag in front. */
function addTag(line: string, tag: string): string {
  return line.startsWith('@') ? `@${tag};${line.slice(1)}` : `@${tag} ${line}`;
}
