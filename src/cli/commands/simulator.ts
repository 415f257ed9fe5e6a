import { parseRateLimit } from '../../config/rate-limit.js';
import { SIM_WINDOW_KINDS, type SimRateLimit, type SimWindowKind } from '../../simulator/options.js';
import { SIM_CREDENTIALS, startSimulator } from '../../simulator/server.js';
import { CliError, ExitCode } from '../cli-error.js';

export interface SimulatorArgs {
  readonly port: number;
  readonly host: string;
  readonly latency: number;
  readonly failureRate: number;
  readonly ootoRateLimit?: string;
  readonly glairRateLimit?: string;
  readonly ootoWindow?: string;
  readonly glairWindow?: string;
  readonly ootoBurst?: number;
  readonly glairBurst?: number;
  readonly ootoScoreShift?: number;
  readonly glairScoreShift?: number;
  readonly scoreNoise?: number;
}

function limit(flag: string, text: string | undefined, window: string | undefined, burst: number | undefined): SimRateLimit | undefined {
  if (text === undefined) return undefined;
  const parsed = parseRateLimit(text);
  if (!parsed) throw new CliError(`${flag} must read <count>/<s|m|h>, e.g. 10/s`, ExitCode.USAGE);
  if (window !== undefined && !SIM_WINDOW_KINDS.includes(window as SimWindowKind)) {
    throw new CliError(`${flag.replace('rate-limit', 'window')} must be one of ${SIM_WINDOW_KINDS.join(', ')}`, ExitCode.USAGE);
  }
  return { ...parsed, ...(window !== undefined ? { window: window as SimWindowKind } : {}), ...(burst !== undefined ? { burst } : {}) };
}

/** `rescreen simulator`: serves both vendors until SIGINT/SIGTERM. */
export async function simulator(args: SimulatorArgs): Promise<number> {
  if (!Number.isFinite(args.latency) || args.latency < 0) throw new CliError('--latency must be ≥ 0 ms', ExitCode.USAGE);
  if (!(args.failureRate >= 0 && args.failureRate <= 1)) throw new CliError('--failure-rate must be from 0 to 1', ExitCode.USAGE);
  const ooto = limit('--ooto-rate-limit', args.ootoRateLimit, args.ootoWindow, args.ootoBurst);
  const glair = limit('--glair-rate-limit', args.glairRateLimit, args.glairWindow, args.glairBurst);
  for (const [flag, v] of [['--ooto-score-shift', args.ootoScoreShift], ['--glair-score-shift', args.glairScoreShift]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= -1 && v <= 1)) throw new CliError(`${flag} must be a number from -1 to 1, e.g. -0.1`, ExitCode.USAGE);
  }
  if (args.scoreNoise !== undefined && !(Number.isFinite(args.scoreNoise) && args.scoreNoise >= 0 && args.scoreNoise <= 0.5)) {
    throw new CliError('--score-noise must be a number from 0 to 0.5, e.g. 0.02', ExitCode.USAGE);
  }
  const sim = await startSimulator({
    port: args.port,
    host: args.host,
    latencyMs: args.latency,
    failureRate: args.failureRate,
    rateLimit: { ...(ooto ? { ooto } : {}), ...(glair ? { glair } : {}) },
    scoreShift: { ooto: args.ootoScoreShift ?? 0, glair: args.glairScoreShift ?? 0 },
    scoreNoise: args.scoreNoise ?? 0,
  });
  const c = SIM_CREDENTIALS;
  process.stdout.write(
    `vendor simulator listening on ${sim.url}\n` +
      `  export OOTO_BASE_URL=${sim.url} OOTO_APP_ID=${c.ooto.appId} OOTO_APP_KEY=${c.ooto.appKey}\n` +
      `  export GLAIR_BASE_URL=${sim.url} GLAIR_USERNAME=${c.glair.username} GLAIR_PASSWORD=${c.glair.password} GLAIR_API_KEY=${c.glair.apiKey}\n` +
      `  stats: GET ${sim.url}/__sim/stats   (Ctrl-C to stop)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await sim.close();
  return ExitCode.OK;
}
