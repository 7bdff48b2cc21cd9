// The UDP ingest benchmark's peer: a bare node:dgram server that parses each datagram as JSON
// and answers `{"type":"ack","ref":…}`: receive, parse, reply, and nothing else (porthouse also
// verifies the token, validates, stores durably and fans out). Prints `dgram listening on
// udp://127.0.0.1:PORT`; exits with its parent or on SIGINT/SIGTERM.
import { createSocket } from 'node:dgram';

const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  let ref: unknown;
  try {
    ref = (JSON.parse(String(msg)) as { ref?: unknown }).ref;
  } catch {
    return;
  }
  socket.send(JSON.stringify({ type: 'ack', ref }), rinfo.port, rinfo.address);
});
const stop = () => {
  socket.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('disconnect', stop);
socket.bind(0, '127.0.0.1', () => {
  process.stdout.write(`dgram listening on udp://127.0.0.1:${socket.address().port}\n`);
});
