/** GLAIR as rescreen knows it: its variables, its Basic-auth secret, its client, its 6 MiB body cap. */
import { defineVendor } from '../definition.js';
import type { GlairClient } from '../types.js';
import { createGlairClient } from './client.js';
import { GLAIR } from './identity.js';
import { GLAIR_MAX_BYTES } from './limits.js';

export { GLAIR_MAX_BYTES };

/** The test credentials the rescreen simulator accepts for GLAIR (src/simulator reads them here). */
export const GLAIR_SIMULATOR_CREDENTIALS = Object.freeze({ username: 'sim-user', password: 'sim-pass', apiKey: 'sim-api-key' });

export const glairVendor = defineVendor<GlairClient>({
  ...GLAIR,
  baseUrlVar: 'GLAIR_BASE_URL',
  defaultBaseUrl: 'https://api.vision.glair.ai',
  rateLimitVar: 'GLAIR_RATE_LIMIT',
  priceVar: 'GLAIR_PRICE_PER_CALL',
  credentials: { username: 'GLAIR_USERNAME', password: 'GLAIR_PASSWORD', apiKey: 'GLAIR_API_KEY' },
  simulatorCredentials: GLAIR_SIMULATOR_CREDENTIALS,
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
  // GLAIR's status enum of a refused reading (its deepfake-detection object: NO_FILE, FILE_INVALID_FORMAT, FAILED).
  codeMeanings: {
    NO_FILE: 'GLAIR: no video file reached the vendor',
    FILE_INVALID_FORMAT: 'GLAIR: the vendor cannot read the file’s format',
    FAILED: 'GLAIR: the vendor could not read the video (its reason says why)',
  },
});
