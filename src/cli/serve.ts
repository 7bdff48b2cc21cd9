// `porthouse serve`: run one node until SIGINT/SIGTERM, then drain and exit 0.
import { loadConfig } from '../config.js';
import { createLogger, start } from '../server.js';
import { configFromFlags } from './args.js';

export async function serve(values: Record<string, unknown>): Promise<void> {
  const config = loadConfig({ flags: configFromFlags(values), env: process.env });
  const logger = createLogger(config);
  const server = await start(config, { logger });
  for (const a of server.addresses()) process.stdout.write(`porthouse ${a.door} listening on ${a.url}\n`);
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) {
      process.stderr.write(`porthouse: second ${signal}, exiting now\n`);
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'stopping');
    server.stop().then(
      () => {
        process.stdout.write('porthouse stopped\n');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
