import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs. Write keys, API keys, passwords and auth headers are redacted wherever they appear
 * in a logged object, so a careless `log.info({ req })` cannot leak them.
 */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { component },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['writeKey', '*.writeKey', '*.*.writeKey', 'apiKey', '*.apiKey', '*.*.apiKey', 'password', '*.password', 'authorization', '*.authorization', '*.headers.authorization', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
