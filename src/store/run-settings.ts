/**
 * What a batch actually ran with: the settings that shape verdicts, as the workers that answered its
 * jobs had them (README: Exports for audit). One entry per distinct configuration, identified by a
 * hash of its fields, so a batch answered by several configurations (a changed threshold, a second
 * worker on another base URL) lists each once.
 */
import { createHash } from 'node:crypto';

/** The settings of one worker configuration that answered calls of a batch, for one vendor. Never a secret. */
export interface RunSettings {
  readonly rescreenVersion: string;
  /** The vendor whose calls these settings answered. */
  readonly vendor: string;
  /** The vendor's base URL as the worker had it: no user, password, query string or fragment. */
  readonly baseUrl: string;
  /** True when the base URL is a loopback address that answered as the rescreen simulator: not a vendor's answers. */
  readonly simulator: boolean;
  /** Similarity at or above which identify says `match`. */
  readonly identifyMatchThreshold: number;
  /** RESCREEN_KEEP_RESPONSE: what of a vendor answer a record keeps. */
  readonly keepResponse: 'full' | 'minimal';
  /** RESCREEN_MAX_RESPONSE_BYTES: most bytes of an answer a record keeps. */
  readonly maxResponseBytes: number;
}

/** A stored {@link RunSettings}: with its hash and when a worker first recorded it for the batch. */
export interface RunSettingsEntry extends RunSettings {
  /** {@link runSettingsHash} of the settings: the same settings are stored once per batch. */
  readonly hash: string;
  /** ISO 8601: the first time a worker recorded these settings for the batch. */
  readonly firstSeenAt: string;
}

const FIELDS = ['rescreenVersion', 'vendor', 'baseUrl', 'simulator', 'identifyMatchThreshold', 'keepResponse', 'maxResponseBytes'] as const;

/** Only the {@link RunSettings} fields, in a fixed order (what is hashed and stored). */
export function pickRunSettings(settings: RunSettings): RunSettings {
  return Object.fromEntries(FIELDS.map((f) => [f, settings[f]])) as unknown as RunSettings;
}

/** sha256 (hex, first 16 digits) of the settings' fields in a fixed order: equal settings, equal hash. */
export function runSettingsHash(settings: RunSettings): string {
  return createHash('sha256').update(JSON.stringify(pickRunSettings(settings))).digest('hex').slice(0, 16);
}

/** The entry a store keeps for `settings` first recorded at `at`. */
export function runSettingsEntry(settings: RunSettings, at: string): RunSettingsEntry {
  return { ...pickRunSettings(settings), hash: runSettingsHash(settings), firstSeenAt: at };
}

/** Oldest first, ties by hash: the order `runSettings` answers in. */
export function compareRunSettings(a: RunSettingsEntry, b: RunSettingsEntry): number {
  return a.firstSeenAt < b.firstSeenAt ? -1 : a.firstSeenAt > b.firstSeenAt ? 1 : a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
}

/** A base URL without what may be a credential: user and password, query string, fragment. */
export function publicBaseUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.href.replace(/\/+$/, '');
  } catch {
    return '(not a URL)';
  }
}

/** The origin (scheme, host, port) of a URL: what an attempt row names; null for a URL that does not parse. */
export function originOf(url: string): string | null {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}
