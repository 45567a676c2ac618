// The sidecar's entry point (bundled to sidecar/dist/sidecar.js): env → config, start, and
// the SIGTERM path that flushes buffered reports within the grace period.
import { ConfigError, readConfig } from './config.js';
import { createLog } from './log.js';
import { Sidecar } from './sidecar.js';

const untilSignal = (): Promise<void> =>
  new Promise<void>((ok) => {
    process.once('SIGTERM', ok);
    process.once('SIGINT', ok);
  });

async function main(): Promise<number> {
  let cfg;
  try {
    // The sidecar's edge: the only place it reads its environment.
    // eslint-disable-next-line no-restricted-properties
    cfg = readConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Never crash-loop: a restarting container would make the whole pod NotReady, and a pod
    // without a monitor is better than a pod taken out of service by its monitor. Say why,
    // then idle until the pod stops.
    process.stderr.write(
      `${JSON.stringify({ level: 50, time: Date.now(), name: 'bulkhead-sidecar', msg: 'invalid configuration; not monitoring', problems: err.problems })}\n`,
    );
    const keepAlive = setInterval(() => {}, 1 << 30);
    await untilSignal();
    clearInterval(keepAlive);
    return 0;
  }
  const log = createLog(cfg.logLevel);
  const sidecar = new Sidecar(cfg, log);
  await sidecar.start();
  await untilSignal();
  log.info('stopping: flushing buffered reports', { graceMs: cfg.shutdownGraceMs });
  const flushed = await sidecar.stop();
  return flushed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${JSON.stringify({ level: 60, time: Date.now(), name: 'bulkhead-sidecar', msg: 'fatal', err: err instanceof Error ? err.stack : String(err) })}\n`,
    );
    process.exit(1);
  },
);
