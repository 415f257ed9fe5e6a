/**
 * Quotas changed at run time: `rescreen limits set ooto 20/s` stores an override in Redis that wins
 * over the environment until `limits reset ooto`. Every worker re-reads the overrides each second
 * ({@link QuotaWatcher}), so a change reaches the whole fleet within ~1 s, no restart.
 */
import type { Redis } from '../redis/client.js';
import type { Logger } from 'pino';
import { quotaOverridesKey, quotaStateKey } from '../redis/keys.js';
import type { Vendor } from '../vendors/types.js';
import { isQuotaError, parseQuota, type Quota } from './spec.js';

/** An override: a quota, or `none` (no limit at all). */
export interface QuotaOverride {
  readonly text: string;
  readonly setAt: string;
}

type ParsedOverride = { quota: Quota | undefined } | { error: string };

/** Override texts already parsed: the fleet re-reads them every second, and they rarely change. */
const parsed = new Map<string, ParsedOverride>();
const MAX_PARSED = 256;

/** The quota an override text means; `none` / `off` mean no limit. Returns an error message when malformed. Parsed once per text. */
export function parseOverride(text: string): ParsedOverride {
  let known = parsed.get(text);
  if (known === undefined) {
    const t = text.trim().toLowerCase();
    const q = t === 'none' || t === 'off' ? undefined : parseQuota(t);
    known = q === undefined ? { quota: undefined } : isQuotaError(q) ? { error: q.error } : { quota: q };
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(text, known);
  }
  return known;
}

export async function readOverrides(redis: Redis, prefix: string): Promise<Partial<Record<Vendor, QuotaOverride>>> {
  const h = await redis.hgetall(quotaOverridesKey(prefix));
  const out: Partial<Record<Vendor, QuotaOverride>> = {};
  for (const [vendor, json] of Object.entries(h)) {
    try {
      const v = JSON.parse(json) as QuotaOverride;
      if (typeof v.text === 'string') out[vendor] = v;
    } catch {
      // A hand-edited field: ignored (the environment's quota stays in force).
    }
  }
  return out;
}

/** Stores an override (validated by the caller with {@link parseOverride}). */
export async function setOverride(redis: Redis, prefix: string, vendor: Vendor, text: string, now = new Date()): Promise<void> {
  const value: QuotaOverride = { text: text.trim().toLowerCase(), setAt: now.toISOString() };
  await redis.hset(quotaOverridesKey(prefix), vendor, JSON.stringify(value));
  await restartSpacing(redis, prefix, vendor);
}

/** Forgets the next free slot, so a new rate spaces calls from now on (not after the old rate's bookings). */
async function restartSpacing(redis: Redis, prefix: string, vendor: Vendor): Promise<void> {
  await redis.hdel(quotaStateKey(prefix, vendor), 'tat');
}

/** Removes an override; returns whether there was one. */
export async function resetOverride(redis: Redis, prefix: string, vendor: Vendor): Promise<boolean> {
  const had = (await redis.hdel(quotaOverridesKey(prefix), vendor)) > 0;
  if (had) await restartSpacing(redis, prefix, vendor);
  return had;
}

/** The quota in force per vendor: the override if any, else the environment's. */
export function effectiveQuota(
  vendor: Vendor,
  env: Readonly<Partial<Record<Vendor, Quota | undefined>>>,
  overrides: Readonly<Partial<Record<Vendor, QuotaOverride>>>,
): { quota: Quota | undefined; source: 'override' | 'environment' } {
  const o = overrides[vendor];
  if (o !== undefined) {
    const parsed = parseOverride(o.text);
    if (!('error' in parsed)) return { quota: parsed.quota, source: 'override' };
  }
  return { quota: env[vendor], source: 'environment' };
}

/**
 * Keeps each vendor's quota in force up to date in one process (polls the overrides). The quota in
 * force is worked out when the overrides are read, so {@link current} — asked on every vendor call —
 * only looks it up.
 */
export class QuotaWatcher {
  #overrides: Partial<Record<Vendor, QuotaOverride>> = {};
  #timer: NodeJS.Timeout | undefined;
  readonly #inForce = new Map<Vendor, { quota: Quota | undefined }>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly env: Readonly<Partial<Record<Vendor, Quota | undefined>>>,
    private readonly log: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  /** Reads the overrides now, then every `intervalMs` until `stop()`. */
  async start(): Promise<this> {
    await this.refresh();
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.log.debug({ err }, 'could not read quota overrides'));
    }, this.intervalMs);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async refresh(): Promise<void> {
    this.#overrides = await readOverrides(this.redis, this.prefix);
    for (const vendor of Object.keys(this.env)) this.#update(vendor);
  }

  /** The quota in force for `vendor`. */
  current(vendor: Vendor): Quota | undefined {
    return (this.#inForce.get(vendor) ?? this.#update(vendor)).quota;
  }

  /** Works out the quota in force for `vendor` from the overrides read last; logs once when it changes. */
  #update(vendor: Vendor): { quota: Quota | undefined } {
    const { quota, source } = effectiveQuota(vendor, this.env, this.#overrides);
    const known = this.#inForce.get(vendor);
    if (known !== undefined && known.quota?.text === quota?.text) return known;
    if (known !== undefined) {
      this.log.info({ vendor, quota: quota?.text ?? 'none', source }, `${vendor}: quota now ${quota?.text ?? 'none'} (${source === 'override' ? 'rescreen limits set' : 'environment'})`);
    }
    const entry = { quota };
    this.#inForce.set(vendor, entry);
    return entry;
  }
}
