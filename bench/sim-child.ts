/**
 * The vendor simulator in its own process (so it has its own core and does not steal the
 * measured process's event loop). Argument: a JSON object of SimulatorOptions (latencyMs,
 * rateLimit…). Prints `{"url": …}` on one line once listening; stops on SIGTERM/SIGINT.
 */
import { startSimulator, type SimulatorOptions } from '../src/simulator/server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
const sim = await startSimulator({ ...options, host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);
await new Promise<void>((resolve) => {
  process.once('SIGTERM', () => resolve());
  process.once('SIGINT', () => resolve());
});
await sim.close();
