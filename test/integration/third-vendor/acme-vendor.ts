/**
 * ACME's vendor definition: everything rescreen needs to know of a vendor, in one object (what
 * src/vendors/<name>/vendor.ts holds for OOTO and GLAIR). Built on the shared transport of src/vendors.
 */
import { MalformedResponseError } from '../../../src/errors/errors.js';
import type { MediaBlob } from '../../../src/media/types.js';
import { defineVendor } from '../../../src/vendors/definition.js';
import { isSuccessStatus, statusError } from '../../../src/vendors/http.js';
import { createTransport } from '../../../src/vendors/transport.js';
import type { CallOptions, VendorAnswer } from '../../../src/vendors/types.js';

export interface AcmeLiveness {
  readonly live: boolean;
  readonly score: number;
}

export interface AcmeClient {
  liveness(photo: MediaBlob, options?: CallOptions): Promise<VendorAnswer<AcmeLiveness>>;
  close(): Promise<void>;
}

/** ACME's name and label, as OOTO's and GLAIR's identity.ts hold theirs. */
const ACME = { name: 'acme', label: 'ACME' } as const;

export const acmeVendor = defineVendor<AcmeClient>({
  ...ACME,
  baseUrlVar: 'ACME_BASE_URL',
  defaultBaseUrl: 'https://api.acme.invalid',
  rateLimitVar: 'ACME_RATE_LIMIT',
  priceVar: 'ACME_PRICE_PER_CALL',
  credentials: { key: 'ACME_KEY' },
  derivedSecrets: ({ key }) => (key === undefined ? [] : [`Bearer ${key}`]),
  createClient: (settings, options) => {
    const transport = createTransport(ACME, { ...options, baseUrl: settings.baseUrl });
    const headers = { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${settings.credentials.key ?? ''}` };
    return {
      liveness: (photo, call = {}) =>
        transport.post({ path: '/v1/liveness', headers, body: () => Buffer.from(JSON.stringify({ image: photo.bytes.toString('base64') })), signal: call.signal }, (response, path) => {
          const body = response.body as { id?: unknown; live?: unknown; score?: unknown } | null;
          const transactionId = typeof body?.id === 'string' ? body.id : null;
          if (!isSuccessStatus(response.status)) throw statusError(ACME, response, transactionId);
          if (typeof body?.live !== 'boolean' || typeof body.score !== 'number') {
            throw new MalformedResponseError('acme', response.status, response.body, transactionId, `ACME answered ${path} without live/score`);
          }
          return { transactionId, status: response.status, result: { live: body.live, score: body.score }, body: response.body };
        }),
      close: () => transport.close(),
    };
  },
});
