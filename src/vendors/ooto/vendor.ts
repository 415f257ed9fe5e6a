/** OOTO as rescreen knows it: its variables, its client, the simulator's test credentials. */
import { OOTO_SIMULATION } from '../../simulator/ooto-routes.js';
import { SIM_CREDENTIALS } from '../../simulator/options.js';
import { defineVendor } from '../definition.js';
import type { OotoClient } from '../types.js';
import { createOotoClient } from './client.js';

export const ootoVendor = defineVendor<OotoClient>({
  name: 'ooto',
  label: 'OOTO',
  baseUrlVar: 'OOTO_BASE_URL',
  defaultBaseUrl: 'https://cloud.ooto-ai.com',
  rateLimitVar: 'OOTO_RATE_LIMIT',
  credentials: { appId: 'OOTO_APP_ID', appKey: 'OOTO_APP_KEY' },
  simulatorCredentials: { ...SIM_CREDENTIALS.ooto },
  simulator: OOTO_SIMULATION,
  createClient: (settings, options) =>
    createOotoClient({ ...options, baseUrl: settings.baseUrl, appId: settings.credentials.appId, appKey: settings.credentials.appKey }),
});
