/**
 * What every command needs: the configuration (parsed once), a logger, and — for commands that touch
 * Redis — an open runtime. Turns configuration and connection problems into one-line CLI errors.
 */
import { ConfigError, type Config } from '../config/config.js';
import { createLogger, type Logger } from '../log/logger.js';
import { loadConfig, openRuntime, RedisLostError, RedisUnavailableError, RedisWatchdog, StoreUnavailableError, type Runtime } from '../app/index.js';
import { CliError, ExitCode } from './cli-error.js';

/** The process's configuration, parsed from the environment on first use and kept (one parse per process). */
let parsed: Config | undefined;

/** The configuration (parsed once per process). @throws CliError (exit 2) naming every bad variable. */
export function cliConfig(): Config {
  try {
    return (parsed ??= loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.USAGE);
    throw error;
  }
}

export function cliLogger(config: Config): Logger {
  return createLogger(config.logLevel);
}

/** How long a command waits for a lost Redis connection to come back before it gives up, ms. */
export const REDIS_LOST_GRACE_MS = 5_000;
/**
 * How long a command waits for a Redis that keeps the connection but does not answer (frozen) before
 * it gives up, ms. Above Redis' 5 s script time limit, after which a server busy with a script answers BUSY.
 */
export const REDIS_SILENT_MS = 6_000;

export interface WithRuntimeOptions {
  /**
   * Keep going through a Redis restart or freeze (the workers: BullMQ resumes once Redis is back).
   * Default false: any other command gives up {@link REDIS_LOST_GRACE_MS} after losing Redis, or
   * {@link REDIS_SILENT_MS} after it stopped answering, with one line and exit 2, rather than waiting
   * for ever with no output.
   */
  readonly survivesRedisRestarts?: boolean;
}

/** Opens the runtime, runs `fn`, always closes. */
export async function withRuntime<T>(
  fn: (runtime: Runtime) => Promise<T>,
  config: Config = cliConfig(),
  options: WithRuntimeOptions = {},
): Promise<T> {
  const log = cliLogger(config);
  const watchdog = options.survivesRedisRestarts === true ? undefined : new RedisWatchdog(config.redisUrl, { lostGraceMs: REDIS_LOST_GRACE_MS, silentMs: REDIS_SILENT_MS });
  let runtime: Runtime;
  try {
    runtime = await untilLost(openRuntime(config, log), watchdog);
  } catch (error) {
    watchdog?.dispose();
    throw cliErrorOf(error);
  }
  watchdog?.follow(runtime.redis);
  try {
    return await untilLost(fn(runtime), watchdog);
  } catch (error) {
    throw cliErrorOf(error);
  } finally {
    watchdog?.dispose();
    if (watchdog?.fired === true) {
      // Closing would wait for Redis too: drop the connection (no round trip); the process ends now.
      runtime.redis.disconnect();
    } else {
      await runtime.close();
    }
  }
}

/** `work`, unless the watchdog gives up first; then `work` is abandoned (its commands wait in ioredis' queue). */
async function untilLost<T>(work: Promise<T>, watchdog: RedisWatchdog | undefined): Promise<T> {
  if (watchdog === undefined) return work;
  work.catch(() => undefined);
  return Promise.race([work, watchdog.lost]);
}

/** Infrastructure that is not there (Redis, the PostgreSQL store): one line, exit 2. */
function cliErrorOf(error: unknown): unknown {
  if (error instanceof RedisLostError) {
    return new CliError(`${error.message}; run the same command again once Redis is back (what was written is kept, nothing is done twice)`, ExitCode.USAGE);
  }
  if (error instanceof RedisUnavailableError || error instanceof StoreUnavailableError) return new CliError(error.message, ExitCode.USAGE);
  return error;
}
