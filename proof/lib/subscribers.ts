// A subscriber to one room on each real-time door, as the load and soak proofs open them by the
// thousand: WebSocket (the ws package), TCP (auth and sub in one write), SSE (node:http) and IRC
// (PASS with the token, message-tags for each line's msgid).
// Each resolves once subscribed and calls `onMsg` for every message; `drop` ends it without a
// goodbye (no close frame, no unsub), the way a vanished client does.
import { request as httpRequest } from 'node:http';
import { type Socket, connect } from 'node:net';
import { WebSocket } from 'ws';
import { SseParser } from '../../src/client/sse-parser.js';

export type SubscriberDoor = 'ws' | 'tcp' | 'sse' | 'irc';

export interface SubscribeOptions {
  readonly httpPort: number;
  readonly tcpPort: number;
  /** Needed for the IRC door only. */
  readonly ircPort?: number;
  readonly token: string;
  readonly room: string;
  /** Resume after this seq; undefined subscribes from the head. */
  readonly since?: number;
  /** The source address to connect from (a loopback address). */
  readonly localAddress?: string;
}

export interface RoomSubscriber {
  /** Sends a `pub` to the room when the door carries pubs (not SSE) and is still open. */
  pub(text: string): boolean;
  drop(): void;
}

type OnMsg = (seq: number, text: string) => void;

export function subscribe(door: SubscriberDoor, o: SubscribeOptions, onMsg: OnMsg): Promise<RoomSubscriber> {
  if (door === 'ws') return subscribeWs(o, onMsg);
  if (door === 'tcp') return subscribeTcp(o, onMsg);
  if (door === 'irc') return subscribeIrc(o, onMsg);
  return subscribeSse(o, onMsg);
}

const subFrame = (o: SubscribeOptions) =>
  JSON.stringify(
    o.since === undefined ? { type: 'sub', room: o.room } : { type: 'sub', room: o.room, since: o.since },
  );

function subscribeWs(o: SubscribeOptions, onMsg: OnMsg): Promise<RoomSubscriber> {
  const ws = new WebSocket(`ws://127.0.0.1:${o.httpPort}/v1/ws`, {
    headers: { authorization: `Bearer ${o.token}` },
    perMessageDeflate: false,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { type: string; seq: number; text: string };
      if (f.type === 'msg') onMsg(f.seq, f.text);
      else if (f.type === 'subbed')
        resolve({
          pub: (text) => {
            if (ws.readyState !== ws.OPEN) return false;
            ws.send(JSON.stringify({ type: 'pub', room: o.room, text }));
            return true;
          },
          drop: () => ws.terminate(),
        });
    });
    ws.once('open', () => ws.send(subFrame(o)));
  });
}

function subscribeTcp(o: SubscribeOptions, onMsg: OnMsg): Promise<RoomSubscriber> {
  const s: Socket = connect({
    port: o.tcpPort,
    host: '127.0.0.1',
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    let buffer = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buffer += d;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const f = JSON.parse(buffer.slice(0, nl)) as { type: string; seq: number; text: string };
        buffer = buffer.slice(nl + 1);
        if (f.type === 'msg') onMsg(f.seq, f.text);
        else if (f.type === 'subbed')
          resolve({
            pub: (text) =>
              !s.destroyed && s.write(`${JSON.stringify({ type: 'pub', room: o.room, text })}\n`),
            drop: () => s.destroy(),
          });
      }
    });
    // Auth and sub in one write: the sub waits for the auth (protocol.md).
    s.write(`${JSON.stringify({ type: 'auth', token: o.token })}\n${subFrame(o)}\n`);
  });
}

function subscribeSse(o: SubscribeOptions, onMsg: OnMsg): Promise<RoomSubscriber> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: o.httpPort,
      path: `/v1/rooms/${o.room}/events${o.since === undefined ? '' : `?since=${o.since}`}`,
      headers: { authorization: `Bearer ${o.token}`, accept: 'text/event-stream' },
      agent: false,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    req.once('error', reject);
    req.once('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE ${res.statusCode}`));
      const parser = new SseParser();
      res.setEncoding('utf8');
      res.on('error', () => {});
      res.on('data', (d: string) => {
        for (const e of parser.push(d)) {
          if (e.event !== 'msg') continue;
          const f = JSON.parse(e.data) as { seq: number; text: string };
          onMsg(f.seq, f.text);
        }
      });
      // The stream is open once the response starts: `subbed` is its first event.
      resolve({ pub: () => false, drop: () => req.destroy() });
    });
    req.end();
  });
}

function subscribeIrc(o: SubscribeOptions, onMsg: OnMsg): Promise<RoomSubscriber> {
  const s: Socket = connect({
    port: o.ircPort ?? 6667,
    host: '127.0.0.1',
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  const channel = `#${o.room}`;
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    let buffer = '';
    let joined = false;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buffer += d;
      for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const privmsg = line.indexOf(` PRIVMSG ${channel} :`);
        if (privmsg > 0) {
          // `@time=…;msgid=room:seq :nick!nick@host PRIVMSG #room :text`
          const msgid = /[@;]msgid=([^; ]+)/.exec(line)?.[1] ?? '';
          onMsg(Number(msgid.slice(msgid.lastIndexOf(':') + 1)), line.slice(privmsg + channel.length + 11));
        } else if (line.startsWith('PING ')) s.write(`PONG ${line.slice(5)}\r\n`);
        else if (!joined && line.includes(` 366 `)) {
          joined = true;
          resolve({
            pub: (text) => !s.destroyed && s.write(`PRIVMSG ${channel} :${text}\r\n`),
            drop: () => s.destroy(),
          });
        } else if (/ 464 |^ERROR /.test(line)) reject(new Error(`IRC refused: ${line}`));
      }
    });
    s.write(
      `CAP LS 302\r\nCAP REQ :message-tags\r\nPASS ${o.token}\r\nNICK x\r\nUSER x 0 * :x\r\nCAP END\r\nJOIN ${channel}\r\n`,
    );
  });
}
