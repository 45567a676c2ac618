import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where JSON lines go; stderr by default so stdout stays free for command output. */
  destination?: DestinationStream;
}

/**
 * Builds the process logger once, at the edge; everything else receives it as a parameter.
 * Redaction is the last line of defence against secrets in logs: tokens, passwords and
 * credential-bearing headers are replaced even if a caller logs a whole object by mistake.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'bulkhead',
      level: opts.level ?? 'info',
      redact: {
        paths: [
          '*.token',
          '*.password',
          '*.authorization',
          '*.headers.authorization',
          'req.headers.authorization',
          '*.privateKey',
          '*.key',
        ],
        censor: '[redacted]',
      },
    },
    opts.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything, for unit tests of code that takes a logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
