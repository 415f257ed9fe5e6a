/** GLAIR as rescreen knows it: its variables, its Basic-auth secret, its client, its 6 MiB body cap. */
import { GLAIR_SIMULATION } from '../../simulator/glair-routes.js';
import { SIM_CREDENTIALS } from '../../simulator/options.js';
import { defineVendor } from '../definition.js';
import type { GlairClient } from '../types.js';
import { createGlairClient } from './client.js';
import { GLAIR_MAX_BYTES } from './limits.js';

export { GLAIR_MAX_BYTES };

export const glairVendor = defineVendor<GlairClient>({
  name: 'glair',
  label: 'GLAIR',
  baseUrlVar: 'GLAIR_BASE_URL',
  defaultBaseUrl: 'https://api.vision.glair.ai',
  rateLimitVar: 'GLAIR_RATE_LIMIT',
  credentials: { username: 'GLAIR_USERNAME', password: 'GLAIR_PASSWORD', apiKey: 'GLAIR_API_KEY' },
  simulatorCredentials: { ...SIM_CREDENTIALS.glair },
  simulator: GLAIR_SIMULATION,
  // An answer echoing our headers carries `Basic base64(username:password)`, or the base64 alone.
  derivedSecrets: ({ username, password }) => {
    if (username === undefined && password === undefined) return [];
    const basic = Buffer.from(`${username ?? ''}:${password ?? ''}`, 'utf8').toString('base64');
    return [basic, `Basic ${basic}`];
  },
  createClient: (settings, options) =>
    createGlairClient({
      ...options,
      baseUrl: settings.baseUrl,
      username: settings.credentials.username,
      password: settings.credentials.password,
      apiKey: settings.credentials.apiKey,
    }),
  media: { bodyMaxBytes: GLAIR_MAX_BYTES },
});
