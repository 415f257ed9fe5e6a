/**
 * The simulator's test credentials go only where the simulator is: a loopback base URL that answers
 * its identity endpoint (or RESCREEN_SIMULATOR_CREDENTIALS=1); never a real vendor, never a local
 * proxy that is something else.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingCredentials } from '../../../src/config/config.js';
import { simulatorCandidates } from '../../../src/config/simulator-credentials.js';
import { createLogger } from '../../../src/log/logger.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { confirmSimulatorCredentials } from '../../../src/runtime/simulator-credentials.js';
import { answersAsSimulator } from '../../../src/simulator/identity.js';
import { SIM_CREDENTIALS, startSimulator, type Simulator } from '../../../src/simulator/server.js';

const log = createLogger('silent', { pretty: false });
let sim: Simulator;
let other: Server;
let otherUrl: string;
let otherRequests: string[] = [];

beforeAll(async () => {
  sim = await startSimulator();
  // Answers 200 with JSON to everything, as a catch-all proxy or mock might: still not the simulator.
  other = createServer((req, res) => {
    otherRequests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"service":"proxy"}');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sim.close();
  other.closeAllConnections();
  await new Promise<void>((resolve) => other.close(() => resolve()));
});

describe('answersAsSimulator', () => {
  it('is true for the simulator only', async () => {
    expect(await answersAsSimulator(sim.url)).toBe(true);
    expect(await answersAsSimulator(`${sim.url}/`)).toBe(true);
    expect(await answersAsSimulator(otherUrl)).toBe(false);
    expect(await answersAsSimulator('http://127.0.0.1:9')).toBe(false); // nothing listens
  });
});

describe('simulator credentials', () => {
  it('are not filled in when the configuration is parsed, whatever the base URL', () => {
    const config = loadConfig({ OOTO_BASE_URL: sim.url, GLAIR_BASE_URL: sim.url });
    expect(missingCredentials(config, 'ooto')).toEqual(['OOTO_APP_ID', 'OOTO_APP_KEY']);
    expect(simulatorCandidates(config)).toEqual(['ooto', 'glair']);
  });

  it('go to a loopback base URL that answers as the simulator, and to no other', async () => {
    otherRequests = [];
    const config = await confirmSimulatorCredentials(loadConfig({ OOTO_BASE_URL: sim.url, GLAIR_BASE_URL: otherUrl }), log);
    expect(config.vendors.ooto!.credentials).toEqual(SIM_CREDENTIALS.ooto);
    expect(missingCredentials(config, 'glair')).toEqual(['GLAIR_USERNAME', 'GLAIR_PASSWORD', 'GLAIR_API_KEY']);
    // The other server was asked who it is, once, and nothing else.
    expect(otherRequests).toEqual(['GET /__sim/identity']);
    expect(simulatorCandidates(config)).toEqual(['glair']);
  });

  it('are never asked for: a remote base URL, a vendor with any credential set, or RESCREEN_SIMULATOR_CREDENTIALS=0', async () => {
    expect(simulatorCandidates(loadConfig({}))).toEqual([]); // the real vendors' URLs
    expect(simulatorCandidates(loadConfig({ OOTO_BASE_URL: sim.url, OOTO_APP_ID: 'mine', GLAIR_BASE_URL: 'https://glair.example' }))).toEqual([]);
    otherRequests = [];
    const never = await confirmSimulatorCredentials(loadConfig({ OOTO_BASE_URL: otherUrl, GLAIR_BASE_URL: otherUrl, RESCREEN_SIMULATOR_CREDENTIALS: '0' }), log);
    expect(otherRequests).toEqual([]);
    expect(missingCredentials(never, 'ooto')).toEqual(['OOTO_APP_ID', 'OOTO_APP_KEY']);
  });

  it('RESCREEN_SIMULATOR_CREDENTIALS=1 fills them in at once for every vendor without any credential (a simulator in another container)', () => {
    const config = loadConfig({ OOTO_BASE_URL: 'http://simulator:4010', GLAIR_BASE_URL: 'http://simulator:4010', GLAIR_USERNAME: 'mine', RESCREEN_SIMULATOR_CREDENTIALS: '1' });
    expect(config.vendors.ooto!.credentials).toEqual(SIM_CREDENTIALS.ooto);
    // A vendor with a credential of its own keeps exactly what was set.
    expect(missingCredentials(config, 'glair')).toEqual(['GLAIR_PASSWORD', 'GLAIR_API_KEY']);
    expect(simulatorCandidates(config)).toEqual([]);
  });
});
