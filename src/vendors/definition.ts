/**
 * What a vendor is to rescreen: one folder (src/vendors/<name>/) exporting one {@link VendorDefinition},
 * and one line in the vendor registry (src/vendors/registry.ts). Everything generic (config, runtime,
 * worker pool, status, redaction, retry, budget, demo) loops over the registry; nothing else names a
 * vendor, nor rebuilds its words: its name and label, and the names of its variables (credentials,
 * base URL, quota, price) are read from its definition. A vendor's name is a `Vendor` and its name
 * and label a `VendorIdentity` (./types.ts, a module the transport below this one can import too).
 */
import type { VendorConfigSpec, VendorSettings } from '../config/vendor-settings.js';
import type { MediaLimits } from '../media/types.js';
import type { TransportOptions } from './transport.js';

/** Every vendor client can be closed (its keep-alive sockets). Its other methods are vendor calls. */
export interface VendorClient {
  close(): Promise<void>;
}

/** What the runtime gives a client factory besides the vendor's own settings. */
export type ClientOptions = Omit<TransportOptions, 'baseUrl'>;

/**
 * One vendor: its words (name, label, and its variables: base URL, credentials, quota, price; from
 * {@link VendorConfigSpec}), the secrets it derives (redaction), its client factory and its media caps.
 */
export interface VendorDefinition<Client extends VendorClient = VendorClient> extends VendorConfigSpec {
  /**
   * Builds the client from `config.vendors[name]`. Every method but `close` is one vendor call, made
   * through the vendor transport (`createTransport`, ./transport.ts) with `options`: there the quota
   * permit is taken and the job's hooks (call budget, batch gate) are called, so a client must not
   * send by other means.
   */
  createClient(settings: VendorSettings, options: ClientOptions): Client;
  /** Caps on the media its checks send (GLAIR: a 6 MiB body). */
  readonly media?: MediaLimits;
  /** What its own engine codes mean (OOTO `5`: no face), keyed by the code's text: shown beside a record's `error.code`. */
  readonly codeMeanings?: Readonly<Record<string, string>>;
}

/** Declares a vendor (typed against its client). */
export function defineVendor<Client extends VendorClient>(definition: VendorDefinition<Client>): VendorDefinition<Client> {
  return definition;
}
