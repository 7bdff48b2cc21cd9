// The benchmark's peer: a bare fastify 5 server with nothing but a constant route, run in its own
// process so it can be measured exactly like porthouse. `GET /bare` answers `{"ok":true}`;
// `POST /bare` parses a small JSON body (fastify's default parser) and answers the same constant.
// Logger off, like porthouse's per-request logging. Prints `bare listening on URL` on stdout and
// exits when its parent goes away (the IPC channel closes) or on SIGINT/SIGTERM.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const ok = { ok: true };

app.get('/bare', async () => ok);
app.post('/bare', async (req) => {
  if (typeof req.body !== 'object' || req.body === null) throw new Error('expected a JSON object');
  return ok;
});

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('disconnect', stop);

const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`bare listening on ${url}\n`);
