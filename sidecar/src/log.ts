/** JSON lines on stderr, the same shape pino writes in the engine (level, time, msg), without the dependency. */
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type Level = keyof typeof LEVELS;

export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLog(level: Level, write: (line: string) => void = (l) => process.stderr.write(l)): Log {
  const min = LEVELS[level];
  const at =
    (l: Level) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      if (LEVELS[l] >= min)
        write(`${JSON.stringify({ level: LEVELS[l], time: Date.now(), name: 'bulkhead-sidecar', msg, ...fields })}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
