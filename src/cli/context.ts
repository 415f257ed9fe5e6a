/**
 * What every command needs: the configuration (parsed once), a logger, and — for commands that touch
 * Redis — an open runtime. Turns configuration and connection problems into one-line CLI errors.
 */
import { ConfigError, redactUrl, type Config } from '../config/config.js';
import { createLogger, type Logger } from '../log/logger.js';
import { loadConfig, openRuntime, RedisUnavailableError, type Runtime } from '../app/index.js';
import { CliError, ExitCode } from './cli-error.js';

export function cliConfig(): Config {
  try {
    return loadConfig();
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

export interface WithRuntimeOptions {
  /**
   * Keep going through a Redis restart (the workers: BullMQ resumes once Redis is back). Default
   * false: any other command gives up {@link REDIS_LOST_GRACE_MS} after losing Redis, with one line
   * and exit 2, rather than waiting for ever with no output.
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
  let runtime: Runtime;
  try {
    runtime = await openRuntime(config, log);
  } catch (error) {
    if (error instanceof RedisUnavailableError) throw new CliError(error.message, ExitCode.USAGE);
    throw error;
  }
  const watchdog = options.survivesRedisRestarts === true ? undefined : watchRedis(runtime, config.redisUrl);
  try {
    if (watchdog === undefined) return await fn(runtime);
    const work = fn(runtime);
    // If Redis is lost, `work` never settles (its commands wait in ioredis' offline queue); it is abandoned.
    work.catch(() => undefined);
    return await Promise.race([work, watchdog.lost]);
  } finally {
    watchdog?.dispose();
    // After a loss, closing would wait for Redis too: leave the connections; the process ends now.
    if (watchdog?.fired !== true) await runtime.close();
  }
}

/** Rejects `lost` when the runtime's Redis connection closes and is not ready again within the grace. */
function watchRedis(runtime: Runtime, url: string): { lost: Promise<never>; fired: boolean; dispose(): void } {
  let timer: NodeJS.Timeout | undefined;
  let reject: (error: Error) => void = () => undefined;
  const lost = new Promise<never>((_, r) => (reject = r));
  lost.catch(() => undefined);
  const state = {
    lost,
    fired: false,
    dispose: () => {
      clearTimeout(timer);
      runtime.redis.off('close', onClose);
      runtime.redis.off('ready', onReady);
    },
  };
  const onClose = () => {
    timer ??= setTimeout(() => {
      state.fired = true;
      reject(
        new CliError(
          `lost the connection to Redis at ${redactUrl(url)} and it did not come back within ${REDIS_LOST_GRACE_MS / 1000} s; ` +
            'run the same command again once Redis is back (what was written is kept, nothing is done twice)',
          ExitCode.USAGE,
        ),
      );
    }, REDIS_LOST_GRACE_MS);
  };
  const onReady = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  runtime.redis.on('close', onClose);
  runtime.redis.on('ready', onReady);
  return state;
}
