// The TCP door seen through the WebSocket-shaped interface RealtimeClient speaks, so the same
// client (auth, resume, ref-idempotent pubs, reconnect) runs over a raw TCP stream. Node only.
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { WebSocketLike } from './realtime.js';

/** `tcp://host:port` or `tls://host:port` → a WebSocketLike over newline-delimited frames. */
export function tcpSocket(url: string): WebSocketLike {
  const { protocol, hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const socket =
    protocol === 'tls:'
      ? connectTls({ host, port: Number(port), servername: host })
      : connect(Number(port), host);
  let buffer = '';
  let state = 0; // CONNECTING
  const like: WebSocketLike = {
    get readyState() {
      return state;
    },
    send: (data: string) => {
      socket.write(`${data}\n`);
    },
    close: () => {
      state = 2;
      socket.end();
    },
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  socket.setEncoding('utf8');
  socket.once(protocol === 'tls:' ? 'secureConnect' : 'connect', () => {
    state = 1;
    like.onopen?.({});
  });
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.length > 0) like.onmessage?.({ data: line });
    }
  });
  socket.on('error', (err) => like.onerror?.(err));
  socket.on('close', () => {
    state = 3;
    // A TCP stream has no close code; the server's last `error` line (if any) said why.
    like.onclose?.({ code: 1006, reason: 'connection closed' });
  });
  return like;
}
