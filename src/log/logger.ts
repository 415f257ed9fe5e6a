import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger };

/**
 * Paths whose values never reach a log line. Vendor clients never log headers or credentials; this
 * censors a stray object that carries them (a request, a config) as a second line of defence.
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
  // Every vendor's settings (base URL and credentials), whatever vendors the registry holds.
  'config.vendors',
  'credentials',
  '*.credentials',
  // AWS credentials (the SDK's default chain finds them for s3:// media): never logged, not even their id.
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  '*.accessKeyId',
  '*.secretAccessKey',
  '*.sessionToken',
];

/**
 * The process logger. Always on stderr: stdout carries the command's own output (results, tables).
 * JSON lines when stderr is not a terminal (pipes, containers, CI); pino-pretty on a terminal.
 */
export function createLogger(level: LogLevel, options: { pretty?: boolean; destination?: DestinationStream } = {}): Logger {
  const pretty = options.pretty ?? process.stderr.isTTY;
  const base = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino(
      base,
      pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } }),
    );
  }
  return pino({ ...base, formatters: { level: (label) => ({ level: label }) } }, options.destination ?? pino.destination({ dest: 2, sync: true }));
}
