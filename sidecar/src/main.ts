// The sidecar's entry point (bundled to sidecar/dist/sidecar.js): env → config, start, and
// the SIGTERM path that flushes buffered reports within the grace period.
import { ConfigError, readConfig } from './config.js';
import { createLog } from './log.js';
import { Sidecar } from './sidecar.js';

async function main(): Promise<number> {
  let cfg;
  try {
    // The sidecar's edge: the only place it reads its environment.
    // eslint-disable-next-line no-restricted-properties
    cfg = readConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLog(cfg.logLevel);
  const sidecar = new Sidecar(cfg, log);
  await sidecar.start();
  await new Promise<void>((ok) => {
    process.once('SIGTERM', ok);
    process.once('SIGINT', ok);
  });
  log.info('stopping: flushing buffered reports', { graceMs: cfg.shutdownGraceMs });
  const flushed = await sidecar.stop();
  return flushed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), name: 'bulkhead-sidecar', msg: 'fatal', err: err instanceof Error ? err.stack : String(err) })}\n`);
    process.exit(1);
  },
);
