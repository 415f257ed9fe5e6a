/**
 * The simulator's test credentials, for a vendor without any credential, only when its base URL is
 * the rescreen simulator: asked, not assumed from a loopback address (a local egress proxy is on
 * loopback too, and must never receive them).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { simulatorCandidates, withSimulatorCredentials } from '../config/simulator-credentials.js';
import { answersAsSimulator } from '../simulator/identity.js';

/**
 * `config` with the simulator's test credentials for each candidate vendor ({@link simulatorCandidates})
 * whose base URL answers the simulator's identity endpoint; the others keep their missing credentials
 * (a worker with jobs for them then stops at start-up, naming the variables). One GET per base URL,
 * without credentials; none at all when no vendor is a candidate.
 */
export async function confirmSimulatorCredentials(config: Config, log: Logger): Promise<Config> {
  const candidates = simulatorCandidates(config);
  if (candidates.length === 0) return config;
  const asked = new Map<string, Promise<boolean>>();
  const answers = await Promise.all(
    candidates.map((vendor) => {
      const url = config.vendors[vendor]!.baseUrl;
      let answer = asked.get(url);
      if (answer === undefined) asked.set(url, (answer = answersAsSimulator(url)));
      return answer;
    }),
  );
  const confirmed = candidates.filter((_, i) => answers[i] === true);
  if (confirmed.length > 0) log.debug({ vendors: confirmed }, 'the base URL answers as the rescreen simulator: using its test credentials');
  return withSimulatorCredentials(config, confirmed);
}
