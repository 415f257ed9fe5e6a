import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger };

/**
 * Paths whose values never reach a log line. Vendor clients never log headers, but a stray object
 * with credentials (a config, a request) is censored here as a second line of defence.
 */
const REDACT = [
  'appKey',
  'appId',
  'password',
  'apiKey',
  'authorization',
  'headers.authorization',
  'headers["app-key"]',
  'headers["app-id"]',
  'headers["x-api-key"]',
  '*.appKey',
  '*.appId',
  '*.password',
  '*.apiKey',
  '*.authorization',
  'config.ooto',
  'config.glair',
];

/**
 * The process logger: JSON lines on stderr (stdout is for the command's own output), pretty enough
 * for humans because every line has a `msg`. Level from LOG_LEVEL.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: destinationFd(destination), sync: false }),
  );
}

function destinationFd(stream: NodeJS.WritableStream): number {
  return stream === process.stdout ? 1 : 2;
}
