/** Vendor quotas at run time, as the application layer offers them (`rescreen limits`). */
import { isVendor, type Vendor } from '../checks/registry.js';
import { InvalidInputError } from '../errors/errors.js';
import { parseOverride, resetOverride, setOverride } from '../quota/limits.js';
import { QUOTA_SYNTAX, type Quota } from '../quota/spec.js';
import type { Runtime } from '../runtime/runtime.js';

export { quotas as quotaLimits } from './batches.js';

function vendorArg(text: string): Vendor {
  if (!isVendor(text)) throw new InvalidInputError(`unknown vendor ${JSON.stringify(text)}: ooto or glair`);
  return text;
}

/**
 * Stores a quota override for the whole fleet (workers apply it within ~1 s).
 * @throws InvalidInputError for an unknown vendor or a malformed quota.
 */
export async function setQuota(runtime: Runtime, vendorText: string, text: string): Promise<{ vendor: Vendor; quota: Quota | undefined }> {
  const vendor = vendorArg(vendorText);
  const parsed = parseOverride(text);
  if ('error' in parsed) throw new InvalidInputError(`quota ${parsed.error}; write ${QUOTA_SYNTAX}, or none`);
  await setOverride(runtime.redis, runtime.config.prefix, vendor, text);
  return { vendor, quota: parsed.quota };
}

/** Removes the override; says whether there was one and what is in force now (the environment's). */
export async function resetQuota(runtime: Runtime, vendorText: string): Promise<{ vendor: Vendor; removed: boolean; quota: Quota | undefined }> {
  const vendor = vendorArg(vendorText);
  const removed = await resetOverride(runtime.redis, runtime.config.prefix, vendor);
  return { vendor, removed, quota: runtime.config[vendor].quota };
}
