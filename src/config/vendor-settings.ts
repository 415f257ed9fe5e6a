/**
 * A vendor's part of the configuration, described by the vendor (src/vendors/<name>/vendor.ts) and
 * parsed here with the rest of the environment: the configuration knows no vendor by name, it loops
 * over the specs it is given.
 */
import type { Quota } from './quota-spec.js';
import type { RateLimit } from './rate-limit.js';

/**
 * The words of one vendor: its name and label, and the names of its environment variables. Every
 * message, help text and check reads them here (through the vendor's definition), never rebuilds them.
 */
export interface VendorConfigSpec {
  /** The vendor's name: its queue, its key in `config.vendors`, its name in records and messages. */
  readonly name: string;
  /** Human name in messages, e.g. `OOTO`. */
  readonly label: string;
  /** Variable holding the base URL, e.g. `OOTO_BASE_URL`. */
  readonly baseUrlVar: string;
  readonly defaultBaseUrl: string;
  /** Variable holding the quota (README: Quotas), e.g. `OOTO_RATE_LIMIT`. */
  readonly rateLimitVar: string;
  /** Variable holding the price per call (decimal, RESCREEN_CURRENCY), e.g. `OOTO_PRICE_PER_CALL`. */
  readonly priceVar: string;
  /** Each credential's key (as the client factory reads it) → its variable, e.g. `{appId: 'OOTO_APP_ID'}`. */
  readonly credentials: Readonly<Record<string, string>>;
  /**
   * The simulator's test credentials, used only for a loopback base URL with no credential set at all
   * (`rescreen simulator` + `OOTO_BASE_URL=http://127.0.0.1:4010`): a real vendor never gets them.
   */
  readonly simulatorCredentials?: Readonly<Record<string, string>>;
  /** Secrets derived from the credentials that an answer may echo (GLAIR: the Basic form), for redaction. */
  derivedSecrets?(credentials: Readonly<Record<string, string | undefined>>): readonly (string | undefined)[];
}

/** True when no credential of a vendor is set. */
export function hasNoCredential(credentials: Readonly<Record<string, string | undefined>>): boolean {
  return Object.values(credentials).every((c) => c === undefined);
}

/** One vendor's parsed configuration: `config.vendors[name]`. */
export interface VendorSettings {
  readonly name: string;
  readonly baseUrl: string;
  /** By the spec's credential keys; `undefined` when the variable is not set. */
  readonly credentials: Readonly<Record<string, string | undefined>>;
  /** The quota variable's value; `undefined` means none. */
  readonly quota: Quota | undefined;
  /** The quota's spaced window as a plain rate (for estimates); `undefined` when it has none. */
  readonly rateLimit: RateLimit | undefined;
  /** Price per call in millionths of RESCREEN_CURRENCY; `undefined` when its price variable is not set. */
  readonly pricePerCall: number | undefined;
  /** The spec it was read by (variable names for messages, derived secrets). */
  readonly spec: VendorConfigSpec;
}
