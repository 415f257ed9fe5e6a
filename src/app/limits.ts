/** Vendor quotas at run time, as the application layer offers them (`rescreen limits`). */
import type { Vendor } from '../vendors/types.js';
import { InvalidInputError } from '../errors/errors.js';
import { parseOverride, resetOverride, setOverride } from '../quota/limits.js';
import type { VendorQuotaReport } from '../quota/report.js';
import { QUOTA_SYNTAX, type Quota } from '../quota/spec.js';
import type { Runtime } from '../runtime/runtime.js';
import { quotas } from './batches.js';

/** The quota in force per vendor, with the variable its environment quota comes from (the vendor's definition's). */
export async function quotaLimits(runtime: Runtime): Promise<(VendorQuotaReport & { variable: string })[]> {
  return (await quotas(runtime)).map((r) => ({ ...r, variable: rateLimitVar(runtime, r.vendor) }));
}

function rateLimitVar(runtime: Runtime, vendor: Vendor): string {
  return runtime.vendors.find((v) => v.name === vendor)?.rateLimitVar ?? `${vendor}'s quota variable`;
}

function vendorArg(runtime: Runtime, text: string): Vendor {
  const names = runtime.vendors.map((v) => v.name);
  if (!names.includes(text)) throw new InvalidInputError(`unknown vendor ${JSON.stringify(text)}: ${orList(names)}`);
  return text;
}

/** `a or b`, `a, b or c`. */
export function orList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/**
 * Stores a quota override for the whole fleet (workers apply it within ~1 s).
 * @throws InvalidInputError for an unknown vendor or a malformed quota.
 */
export async function setQuota(runtime: Runtime, vendorText: string, text: string): Promise<{ vendor: Vendor; quota: Quota | undefined }> {
  const vendor = vendorArg(runtime, vendorText);
  const parsed = parseOverride(text);
  if ('error' in parsed) throw new InvalidInputError(`quota ${parsed.error}; write ${QUOTA_SYNTAX}, or none`);
  await setOverride(runtime.redis, runtime.config.prefix, vendor, text);
  return { vendor, quota: parsed.quota };
}

/** Removes the override; says whether there was one and what is in force now (the environment's). */
export async function resetQuota(runtime: Runtime, vendorText: string): Promise<{ vendor: Vendor; removed: boolean; quota: Quota | undefined; variable: string }> {
  const vendor = vendorArg(runtime, vendorText);
  const removed = await resetOverride(runtime.redis, runtime.config.prefix, vendor);
  return { vendor, removed, quota: runtime.config.vendors[vendor]?.quota, variable: rateLimitVar(runtime, vendor) };
}
