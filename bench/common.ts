/** What every scenario gets from the orchestrator, and small shared helpers. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { FormData, request, type Dispatcher } from 'undici';
import type { Config } from '../src/config/config.js';
import { loadConfig } from '../src/runtime/built-ins.js';
import { SIM_CREDENTIALS, type SimulatorStats } from '../src/simulator/server.js';

export interface BenchContext {
  readonly redisUrl: string;
  /** A folder of its own for generated files (removed at the end). */
  readonly tmpDir: string;
  readonly quick: boolean;
  /** Progress lines (stderr). */
  readonly note: (text: string) => void;
}

/** One row of the result table. */
export interface Row {
  readonly scenario: string;
  readonly rescreen: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  /** Whether the target is met; absent for a row that only reports (shown as `–`). */
  readonly ok?: boolean;
}

export interface ScenarioResult {
  readonly rows: readonly Row[];
  /** Extra facts worth printing under the table (one line each). */
  readonly notes: readonly string[];
  /** Whole markdown sections (e.g. a matrix of cells), printed and written after the notes. */
  readonly sections?: readonly string[];
}

/** The config rescreen runs with against a simulator at `simUrl` (as test/helpers/pipeline.ts wires it). */
export function benchConfig(redisUrl: string, prefix: string, simUrl: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    REDIS_URL: redisUrl,
    RESCREEN_PREFIX: prefix,
    OOTO_BASE_URL: simUrl,
    OOTO_APP_ID: SIM_CREDENTIALS.ooto.appId,
    OOTO_APP_KEY: SIM_CREDENTIALS.ooto.appKey,
    GLAIR_BASE_URL: simUrl,
    GLAIR_USERNAME: SIM_CREDENTIALS.glair.username,
    GLAIR_PASSWORD: SIM_CREDENTIALS.glair.password,
    GLAIR_API_KEY: SIM_CREDENTIALS.glair.apiKey,
    LOG_LEVEL: 'warn',
    ...extra,
  });
}

/** `GET /__sim/stats` of a simulator in another process. */
export async function simStats(simUrl: string): Promise<SimulatorStats> {
  const res = await request(`${simUrl}/__sim/stats`);
  return (await res.body.json()) as SimulatorStats;
}

/** `POST /__sim/reset-stats`. */
export async function resetSimStats(simUrl: string): Promise<void> {
  const res = await request(`${simUrl}/__sim/reset-stats`, { method: 'POST' });
  await res.body.dump();
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtRatio(n: number): string {
  return n.toFixed(2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a bare BullMQ worker does per job in (b) and (c): POST the photo at `path` as OOTO's deepfake call. */
export async function postPhoto(http: Dispatcher, path: string): Promise<Dispatcher.ResponseData> {
  const bytes = await readFile(path);
  const form = new FormData();
  form.append('photo', new Blob([bytes], { type: 'image/jpeg' }), basename(path));
  const headers = { accept: 'application/json', 'APP-ID': SIM_CREDENTIALS.ooto.appId, 'APP-KEY': SIM_CREDENTIALS.ooto.appKey };
  return http.request({ path: '/api/v1.0/deepfake', method: 'POST', headers, body: form });
}
