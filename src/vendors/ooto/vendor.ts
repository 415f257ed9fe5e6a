/** OOTO as rescreen knows it: its variables, its client, the simulator's test credentials. */
import { defineVendor } from '../definition.js';
import type { OotoClient } from '../types.js';
import { createOotoClient } from './client.js';
import { OOTO_ENGINE_ERRORS } from './engine-errors.js';
import { OOTO } from './identity.js';

/** The test credentials the rescreen simulator accepts for OOTO (src/simulator reads them here). */
export const OOTO_SIMULATOR_CREDENTIALS = Object.freeze({ appId: 'sim-app-id', appKey: 'sim-app-key' });

export const ootoVendor = defineVendor<OotoClient>({
  ...OOTO,
  baseUrlVar: 'OOTO_BASE_URL',
  defaultBaseUrl: 'https://cloud.ooto-ai.com',
  rateLimitVar: 'OOTO_RATE_LIMIT',
  priceVar: 'OOTO_PRICE_PER_CALL',
  credentials: { appId: 'OOTO_APP_ID', appKey: 'OOTO_APP_KEY' },
  simulatorCredentials: OOTO_SIMULATOR_CREDENTIALS,
  codeMeanings: Object.fromEntries(Object.entries(OOTO_ENGINE_ERRORS).map(([code, info]) => [code, `OOTO engine: ${info}`])),
  createClient: (settings, options) =>
    createOotoClient({ ...options, baseUrl: settings.baseUrl, appId: settings.credentials.appId, appKey: settings.credentials.appKey }),
});
