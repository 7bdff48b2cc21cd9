// The fan-out benchmark's peer: a Socket.IO 4 server doing the same broadcast porthouse does,
// the way its documentation shows it: every subscriber joins one room and each published
// message goes out with io.to(room).emit. WebSocket transport only, no compression, nothing
// stored. Prints `socketio listening on URL`; exits with its parent or on SIGINT/SIGTERM.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
});

// Each broadcast carries what a porthouse `msg` frame carries (seq, id, author, via, createdAt
// beside room and text), so both servers send the same information and the subscribers read
// frames of about the same size; nothing is stored, so seq is just a counter.
let seq = 0;
io.on('connection', (socket) => {
  // The publisher connects with ?role=pub and does not receive its own messages, as in porthouse.
  if (socket.handshake.query['role'] !== 'pub') void socket.join('bench');
  socket.on('pub', (payload: { room: string; text: string }) => {
    io.to('bench').emit('msg', {
      room: payload.room,
      seq: ++seq,
      id: randomUUID(),
      author: 'bench',
      text: payload.text,
      via: 'ws',
      createdAt: new Date().toISOString(),
    });
  });
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('disconnect', stop);

http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`socketio listening on http://127.0.0.1:${port}\n`);
});
