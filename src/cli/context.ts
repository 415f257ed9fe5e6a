/**
 * What every command needs: the configuration (parsed once), a logger, and — for commands that touch
 * Redis — an open runtime. Turns configuration and connection problems into one-line CLI errors.
 */
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { createLogger, type Logger } from '../log/logger.js';
import { RedisUnavailableError } from '../redis/locate.js';
import { openRuntime, type Runtime } from '../runtime/runtime.js';
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

/** Opens the runtime, runs `fn`, always closes. */
export async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T>, config: Config = cliConfig()): Promise<T> {
  const log = cliLogger(config);
  let runtime: Runtime;
  try {
    runtime = await openRuntime(config, log);
  } catch (error) {
    if (error instanceof RedisUnavailableError) throw new CliError(error.message, ExitCode.USAGE);
    throw error;
  }
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}
